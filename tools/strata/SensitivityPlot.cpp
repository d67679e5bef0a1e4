//===- SensitivityPlot.cpp - strata prune --sensitivity's picture ---------===//

#include "SensitivityPlot.h"
#include "WeightReport.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

namespace strata::cli {

bool writeSensitivityPlot(const std::string &path, const std::string &title,
                          const std::string &metric, const std::vector<double> &sweep,
                          const std::vector<SensitivityCurve> &curves, std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    error = "cannot write the plot " + path + ": " + ec.message();
    return false;
  }
  // Distinguishable line colours (Tableau 10), repeating past ten layers.
  static const char *const colours[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2",
                                        "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                                        "#9c755f", "#bab0ac"};
  double lo = 1e300, hi = -1e300;
  for (const SensitivityCurve &c : curves)
    for (double s : c.scores) {
      lo = std::min(lo, s);
      hi = std::max(hi, s);
    }
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  }
  const int left = 70, top = 40, plotWidth = 480, plotHeight = 300;
  const int width = left + plotWidth + 200, height = top + plotHeight + 60;
  auto xOf = [&](double sparsity) { return left + sparsity * plotWidth; };
  auto yOf = [&](double score) { return top + (hi - score) / (hi - lo) * plotHeight; };
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\""
     << height << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
     << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
     << "<text x=\"10\" y=\"20\" font-size=\"14\">" << escapeXml(title) << "</text>\n"
     << llvm::format("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                     "stroke=\"#888\"/>\n",
                     left, top, plotWidth, plotHeight);
  for (int tick = 0; tick <= 10; tick += 2)
    os << llvm::format("<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d%%</text>\n",
                       xOf(tick / 10.0), top + plotHeight + 16, tick * 10);
  for (int tick = 0; tick <= 4; ++tick) {
    double score = lo + (hi - lo) * tick / 4.0;
    os << llvm::format("<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.3f</text>\n", left - 6,
                       yOf(score) + 4, score);
  }
  os << llvm::format("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">sparsity (this layer "
                     "pruned alone, no retraining)</text>\n",
                     left + plotWidth / 2, top + plotHeight + 40)
     << llvm::format("<text x=\"14\" y=\"%d\" transform=\"rotate(-90 14 %d)\" "
                     "text-anchor=\"middle\">%s</text>\n",
                     top + plotHeight / 2, top + plotHeight / 2, escapeXml(metric).c_str());
  for (size_t i = 0; i < curves.size(); ++i) {
    const char *colour = colours[i % 10];
    os << "<polyline class=\"layer\" fill=\"none\" stroke-width=\"2\" stroke=\"" << colour
       << "\" points=\"";
    for (size_t k = 0; k < sweep.size() && k < curves[i].scores.size(); ++k)
      os << llvm::format("%.1f,%.1f ", xOf(sweep[k]), yOf(curves[i].scores[k]));
    os << "\"/>\n";
    int y = top + 10 + int(i) * 18;
    os << llvm::format("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke-width=\"2\" "
                       "stroke=\"%s\"/>\n",
                       left + plotWidth + 16, y, left + plotWidth + 36, y, colour)
       << "<text x=\"" << left + plotWidth + 42 << "\" y=\"" << y + 4 << "\">"
       << escapeXml(curves[i].layer) << "</text>\n";
  }
  os << "</svg>\n";
  return true;
}

} // namespace strata::cli
