/* Whole files in and out, for the tensor readers and writers.
 *
 * Reading maps the file (it may be large: a data set's images) and hands the
 * bytes to a parser that checks every length against them. Writing goes to
 * a temporary file beside the target, which is renamed over it only once
 * complete, so an output is never found half written. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int strata_read_file_with(const char *path,
                          int (*parse)(const unsigned char *, size_t, const char *,
                                       strata_tensor *),
                          strata_tensor *out) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return strata_fail("%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return strata_fail("%s: cannot open: not a regular file", path);
  }
  size_t size = (size_t)st.st_size;
  void *map = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
  close(fd);
  if (size && map == MAP_FAILED)
    return strata_fail("%s: cannot read: %s", path, strerror(errno));
  static const unsigned char empty[1];
  int rc = parse(size ? (const unsigned char *)map : empty, size, path, out);
  if (size)
    munmap(map, size);
  return rc;
}

int strata_write_file_whole(const char *path, const void *data, size_t size) {
  size_t n = strlen(path);
  char *tmp = malloc(n + 16);
  if (!tmp)
    return strata_fail("%s: out of memory", path);
  snprintf(tmp, n + 16, "%s.strata-tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    strata_fail("cannot create %s: %s", path, strerror(errno));
    free(tmp);
    return 1;
  }
  const char *p = data;
  size_t done = 0;
  while (done < size) {
    ssize_t w = write(fd, p + done, size - done);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      break;
    done += (size_t)w;
  }
  int ok = done == size;
  int why = errno;
  ok &= close(fd) == 0;
  if (ok && rename(tmp, path) != 0) {
    why = errno;
    ok = 0;
  }
  if (!ok) {
    unlink(tmp);
    strata_fail("cannot write %s: %s", path, strerror(why));
  }
  free(tmp);
  return ok ? 0 : 1;
}
