// Reads the conformance TSV files (header row, '\t' between raw fields).
#ifndef STRATA_TESTS_UNIT_CONTEXT_TSV_H_
#define STRATA_TESTS_UNIT_CONTEXT_TSV_H_

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "base/str.h"
#include "support/test_support.h"

namespace strata::context::testing {

/// One data row: its 1-based number among the data rows and its fields by
/// column name.
struct TsvRow {
  int number = 0;
  std::map<std::string, std::string> fields;

  const std::string& operator[](const std::string& column) const {
    auto it = fields.find(column);
    if (it == fields.end()) std::abort();  // a typo in the test
    return it->second;
  }
};

/// Reads testdata/conformance/dockerignore/<name>.
inline std::vector<TsvRow> ReadTsv(const std::string& name) {
  std::string text = strata::testing::ReadTestFile(
      strata::testing::TestdataPath("conformance/dockerignore/" + name));
  std::vector<std::string> lines = base::Split(text, '\n');
  std::vector<std::string> header = base::Split(lines.at(0), '\t');
  std::vector<TsvRow> rows;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    std::vector<std::string> cells = base::Split(lines[i], '\t');
    if (cells.size() != header.size()) std::abort();  // malformed data
    TsvRow row;
    row.number = static_cast<int>(rows.size()) + 1;
    for (size_t c = 0; c < header.size(); ++c) row.fields[header[c]] = cells[c];
    rows.push_back(std::move(row));
  }
  return rows;
}

/// gtest name for a row: "row_<number>".
inline std::string RowName(const ::testing::TestParamInfo<TsvRow>& info) {
  return strata::testing::SanitizeTestName("row_" +
                                           std::to_string(info.param.number));
}

/// Lets gtest print a row briefly (ctest shows this next to each name).
inline void PrintTo(const TsvRow& row, std::ostream* os) {
  *os << "row " << row.number;
}

/// All fields of a row, for SCOPED_TRACE in failure messages.
inline std::string Describe(const TsvRow& row) {
  std::string out = "row " + std::to_string(row.number) + ":";
  for (const auto& [k, v] : row.fields) out += " " + k + "=[" + v + "]";
  return out;
}

}  // namespace strata::context::testing

#endif  // STRATA_TESTS_UNIT_CONTEXT_TSV_H_
