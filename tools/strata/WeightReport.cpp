//===- WeightReport.cpp - strata inspect --weights ------------------------===//
//
// A table a user reads after pruning (which layers, how sparse), and the
// histogram of the remaining weights: after prune-and-retrain it has two
// humps, the small weights having been removed (Han et al. 2015, fig. 4).
//
//===----------------------------------------------------------------------===//

#include "WeightReport.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"

#include <algorithm>
#include <cmath>

namespace strata::cli {

namespace {

constexpr int kBins = 32;

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s;
  for (int64_t d : shape)
    s += (s.empty() ? "" : "x") + std::to_string(d);
  return s.empty() ? "scalar" : s;
}

double limitOf(const std::vector<WeightStatistics> &stats) {
  double limit = 0.0;
  for (const WeightStatistics &s : stats)
    if (s.layerWeight)
      limit = std::max(limit, s.maxAbs);
  return limit > 0.0 ? limit : 1.0;
}


} // namespace

std::vector<int64_t> histogram(const std::vector<float> &values, double limit, int bins) {
  std::vector<int64_t> counts(bins, 0);
  for (float v : values) {
    int b = int(std::floor((double(v) + limit) / (2.0 * limit) * bins));
    counts[std::clamp(b, 0, bins - 1)]++;
  }
  return counts;
}

void printWeightReport(const std::vector<WeightStatistics> &stats,
                       const std::vector<float> &layerNonzeros, llvm::raw_ostream &os) {
  os << llvm::format("%-28s %-14s %10s %10s %9s %9s\n", (const char *)"initializer",
                     (const char *)"shape", (const char *)"params", (const char *)"nonzero",
                     (const char *)"sparsity", (const char *)"std");
  int64_t layerTotal = 0, layerNonzero = 0, total = 0, nonzero = 0;
  for (const WeightStatistics &s : stats) {
    os << llvm::format("%-28s %-14s %10lld %10lld %8.1f%% %9.4f%s\n", s.name.c_str(),
                       shapeText(s.shape).c_str(), (long long)s.count, (long long)s.nonzero,
                       100.0 * double(s.count - s.nonzero) / double(std::max<int64_t>(s.count, 1)),
                       s.stdDev, s.layerWeight ? "" : "  (not a layer weight)");
    total += s.count;
    nonzero += s.nonzero;
    if (s.layerWeight) {
      layerTotal += s.count;
      layerNonzero += s.nonzero;
    }
  }
  os << llvm::format("layer weights: %lld of %lld nonzero (sparsity %.1f%%, %.1fx fewer)\n",
                     (long long)layerNonzero, (long long)layerTotal,
                     100.0 * double(layerTotal - layerNonzero) / double(std::max<int64_t>(layerTotal, 1)),
                     double(layerTotal) / double(std::max<int64_t>(layerNonzero, 1)));
  os << llvm::format("all initializers: %lld of %lld nonzero\n", (long long)nonzero,
                     (long long)total);
  if (layerNonzeros.empty())
    return;
  double limit = limitOf(stats);
  std::vector<int64_t> counts = histogram(layerNonzeros, limit, kBins);
  int64_t peak = *std::max_element(counts.begin(), counts.end());
  os << "nonzero layer weights by value:\n";
  for (int b = 0; b < kBins; ++b) {
    double lo = -limit + 2.0 * limit * b / kBins, hi = lo + 2.0 * limit / kBins;
    int bar = peak ? int(std::lround(50.0 * double(counts[b]) / double(peak))) : 0;
    os << llvm::format("  %9.4f .. %9.4f %8lld ", lo, hi, (long long)counts[b])
       << std::string(bar, '#') << "\n";
  }
}

std::string escapeXml(const std::string &text) {
  std::string out;
  for (char c : text) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

bool writeWeightPlot(const std::string &path, const std::string &title,
                     const std::vector<WeightStatistics> &stats,
                     const std::vector<float> &layerNonzeros, std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    error = "cannot write the plot " + path + ": " + ec.message();
    return false;
  }
  std::vector<const WeightStatistics *> layers;
  for (const WeightStatistics &s : stats)
    if (s.layerWeight)
      layers.push_back(&s);
  const int width = 720, histHeight = 260, rowHeight = 18;
  const int height = 60 + histHeight + 50 + rowHeight * int(layers.size()) + 20;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\""
     << height << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
     << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
     << "<text x=\"10\" y=\"20\" font-size=\"14\">" << escapeXml(title) << "</text>\n"
     << "<text x=\"10\" y=\"40\">nonzero layer weights by value (" << layerNonzeros.size()
     << ")</text>\n";
  double limit = limitOf(stats);
  std::vector<int64_t> counts = histogram(layerNonzeros, limit, kBins);
  int64_t peak = std::max<int64_t>(1, *std::max_element(counts.begin(), counts.end()));
  const int left = 60, plotWidth = width - left - 20, top = 50, barWidth = plotWidth / kBins;
  for (int b = 0; b < kBins; ++b) {
    int h = int(std::lround(double(histHeight) * double(counts[b]) / double(peak)));
    os << "<rect class=\"bin\" x=\"" << left + b * barWidth << "\" y=\"" << top + histHeight - h
       << "\" width=\"" << barWidth - 1 << "\" height=\"" << h
       << "\" fill=\"steelblue\"><title>" << counts[b] << "</title></rect>\n";
  }
  os << "<line x1=\"" << left << "\" y1=\"" << top + histHeight << "\" x2=\""
     << left + kBins * barWidth << "\" y2=\"" << top + histHeight << "\" stroke=\"black\"/>\n"
     << llvm::format("<text x=\"%d\" y=\"%d\">%.3f</text>\n", left - 20, top + histHeight + 16,
                     -limit)
     << llvm::format("<text x=\"%d\" y=\"%d\">0</text>\n", left + kBins * barWidth / 2 - 3,
                     top + histHeight + 16)
     << llvm::format("<text x=\"%d\" y=\"%d\">%.3f</text>\n", left + kBins * barWidth - 30,
                     top + histHeight + 16, limit)
     << "<text x=\"10\" y=\"" << top + histHeight + 40 << "\">sparsity per layer</text>\n";
  int y = top + histHeight + 50;
  for (const WeightStatistics *s : layers) {
    double sparsity = double(s->count - s->nonzero) / double(std::max<int64_t>(s->count, 1));
    os << "<text x=\"10\" y=\"" << y + 13 << "\">" << escapeXml(s->name) << "</text>\n"
       << "<rect class=\"sparsity\" x=\"220\" y=\"" << y + 2 << "\" width=\""
       << int(std::lround(400.0 * sparsity)) << "\" height=\"" << rowHeight - 4
       << "\" fill=\"indianred\"/>\n"
       << llvm::format("<text x=\"%d\" y=\"%d\">%.1f%%</text>\n", 630, y + 13, 100.0 * sparsity);
    y += rowHeight;
  }
  os << "</svg>\n";
  return true;
}

} // namespace strata::cli
