#include "build/transfer_progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <regex>
#include <string>

namespace strata::build {
namespace {

// Captures what the display writes.
class Captured {
 public:
  Captured() : file_(open_memstream(&buf_, &size_)) {}
  ~Captured() {
    std::fclose(file_);
    std::free(buf_);
  }
  std::FILE* file() { return file_; }
  std::string text() {
    std::fflush(file_);
    return std::string(buf_, size_);
  }

 private:
  char* buf_ = nullptr;
  size_t size_ = 0;
  std::FILE* file_;
};

TransferUpdate Bytes(const std::string& id, int64_t done, int64_t total) {
  TransferUpdate u;
  u.kind = TransferUpdate::kBytes;
  u.id = id;
  u.action = "Pushing";
  u.done = done;
  u.total = total;
  return u;
}

TransferUpdate LineOf(const std::string& id, const std::string& text) {
  TransferUpdate u;
  u.id = id;
  u.text = text;
  return u;
}

TEST(TransferDisplayTest, PlainShowsOnlyFinishedLines) {
  Captured out;
  TransferDisplay display(out.file(), /*live=*/false);
  display.Update(Bytes("aaaaaaaaaaaa", 1000, 5000));
  display.Update(Bytes("aaaaaaaaaaaa", 5000, 5000));
  display.Update(LineOf("aaaaaaaaaaaa", "pushed aaaaaaaaaaaa (5kB)"));
  display.Update(LineOf("", "reg/app:v1: digest: sha256:ff size: 400"));
  EXPECT_EQ(out.text(),
            "pushed aaaaaaaaaaaa (5kB)\n"
            "reg/app:v1: digest: sha256:ff size: 400\n");
}

TEST(TransferDisplayTest, LiveRedrawsOneRowPerBlobInPlace) {
  Captured out;
  TransferDisplay display(out.file(), /*live=*/true);
  display.Update(Bytes("aaaaaaaaaaaa", 1'200'000, 4'500'000));
  display.Update(Bytes("bbbbbbbbbbbb", 10, 100));  // within 100 ms: no redraw
  display.Update(LineOf("aaaaaaaaaaaa", "pushed aaaaaaaaaaaa (4.5MB)"));
  display.Update(LineOf("", "reg/app:v1: digest: sha256:ff size: 400"));
  // Rates depend on the clock.
  std::string text = std::regex_replace(
      out.text(), std::regex("[0-9.]+[kMG]?B/s"), "RATE");
  EXPECT_EQ(text,
            // The first draw: one row, bytes of total.
            "\r\x1b[2Kaaaaaaaaaaaa: Pushing 1.2MB/4.5MB RATE\n"
            // The finish goes up over it and draws both rows.
            "\x1b[1A"
            "\r\x1b[2Kpushed aaaaaaaaaaaa (4.5MB)\n"
            "\r\x1b[2Kbbbbbbbbbbbb: Pushing 10B/100B RATE\n"
            // The digest line redraws, then stays below the rows.
            "\x1b[2A"
            "\r\x1b[2Kpushed aaaaaaaaaaaa (4.5MB)\n"
            "\r\x1b[2Kbbbbbbbbbbbb: Pushing 10B/100B RATE\n"
            "reg/app:v1: digest: sha256:ff size: 400\n");
}

}  // namespace
}  // namespace strata::build
