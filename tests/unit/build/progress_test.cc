#include "build/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <regex>

namespace strata::build {
namespace {

std::string Capture(const std::function<void(ProgressSink&)>& fn) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  {
    PlainProgress p(f);
    fn(p);
  }
  std::fclose(f);
  std::string out(buf, len);
  free(buf);
  return out;
}

TEST(PlainProgressTest, BuildKitStyle) {
  std::string out = Capture([](ProgressSink& p) {
    int a = p.Start("[build 1/3] FROM alpine");
    p.Done(a);
    int b = p.Start("[build 2/3] COPY . .");
    p.Cached(b);
    int c = p.Start("[build 3/3] RUN make");
    p.Log(c, "cc -o app main.c");
    p.Error(c, "exit code: 2");
  });
  std::string want_re =
      "\n#1 \\[build 1/3\\] FROM alpine\n"
      "#1 DONE [0-9]+\\.[0-9]s\n"
      "\n#2 \\[build 2/3\\] COPY \\. \\.\n"
      "#2 CACHED\n"
      "\n#3 \\[build 3/3\\] RUN make\n"
      "#3 [0-9]+\\.[0-9]{3} cc -o app main\\.c\n"
      "#3 ERROR: exit code: 2\n";
  EXPECT_TRUE(std::regex_match(out, std::regex(want_re))) << out;
}

TEST(PlainProgressTest, InterleavedStepsRepeatTheirHeader) {
  std::string out = Capture([](ProgressSink& p) {
    int a = p.Start("[a 1/1] RUN x");
    int b = p.Start("[b 1/1] RUN y");
    p.Log(a, "from a");
    p.Log(b, "from b");
  });
  EXPECT_NE(out.find("\n#1 [a 1/1] RUN x\n#1 "), std::string::npos) << out;
  EXPECT_NE(out.find("\n#2 [b 1/1] RUN y\n#2 "), std::string::npos) << out;
  // #1's header is printed again before its log line, after #2 spoke.
  size_t first = out.find("#1 [a 1/1] RUN x");
  EXPECT_NE(out.find("#1 [a 1/1] RUN x", first + 1), std::string::npos) << out;
}

TEST(TtyProgressTest, RedrawsACompactViewInPlace) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  {
    std::unique_ptr<ProgressSink> p = NewProgress(Progress::kTty, f);
    int a = p->Start("[build 1/2] COPY app.py .");
    p->Cached(a);
    int b = p->Start("[build 2/2] RUN make");
    p->Log(b, "compiling");
    p->Done(b);
    p->Finish();
  }
  std::fclose(f);
  std::string out(buf, len);
  free(buf);
  // Frames redraw over the previous one (cursor up, erase line)...
  EXPECT_NE(out.find("\x1b[1A\x1b[2K"), std::string::npos) << out;
  // ...and the last frame lists every step with its state and time.
  size_t last = out.rfind("[+] Building");
  ASSERT_NE(last, std::string::npos) << out;
  std::string frame = out.substr(last);
  EXPECT_NE(frame.find("(2/2)"), std::string::npos) << frame;
  EXPECT_NE(frame.find(" => [build 1/2] COPY app.py . CACHED"),
            std::string::npos)
      << frame;
  EXPECT_NE(frame.find(" => [build 2/2] RUN make "), std::string::npos)
      << frame;
}

TEST(QuietProgressTest, PrintsNothingAndNumbers) {
  QuietProgress q;
  EXPECT_EQ(q.Start("a"), 1);
  EXPECT_EQ(q.Start("b"), 2);
}

}  // namespace
}  // namespace strata::build
