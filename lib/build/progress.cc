#include "build/progress.h"

#include <unistd.h>

#include <algorithm>
#include <thread>

namespace strata::build {

namespace {

// The tty view: redraws the step list in place, at most 10 times a second.
class TtyProgress : public ProgressSink {
 public:
  explicit TtyProgress(std::FILE* out)
      : out_(out), start_(Clock::now()) {}

  int Start(std::string name) override {
    std::lock_guard<std::mutex> lock(mu_);
    rows_.push_back({std::move(name), Clock::now(), {}, State::kRunning, {}});
    Redraw(false);
    return static_cast<int>(rows_.size());
  }
  void Log(int id, std::string_view line) override {
    std::lock_guard<std::mutex> lock(mu_);
    Row& r = rows_.at(id - 1);
    r.logs.emplace_back(line);
    if (r.logs.size() > 6) r.logs.erase(r.logs.begin());
    Redraw(false);
  }
  void Status(int, std::string_view) override {}
  void Cached(int id) override { End(id, State::kCached); }
  void Done(int id) override { End(id, State::kDone); }
  void Error(int id, std::string_view message) override {
    std::lock_guard<std::mutex> lock(mu_);
    Row& r = rows_.at(id - 1);
    r.state = State::kError;
    r.end = Clock::now();
    Redraw(true);
    // Keep the failed step's last output visible under the view.
    for (const std::string& l : r.logs) std::fprintf(out_, "  > %s\n", l.c_str());
    std::fprintf(out_, "ERROR: %.*s\n", static_cast<int>(message.size()),
                 message.data());
    std::fflush(out_);
  }
  void Finish() override {
    std::lock_guard<std::mutex> lock(mu_);
    Redraw(true);
  }

 private:
  using Clock = std::chrono::steady_clock;
  enum class State { kRunning, kCached, kDone, kError };
  struct Row {
    std::string name;
    Clock::time_point begin;
    Clock::time_point end;
    State state;
    std::vector<std::string> logs;
  };

  void End(int id, State state) {
    std::lock_guard<std::mutex> lock(mu_);
    Row& r = rows_.at(id - 1);
    r.state = state;
    r.end = Clock::now();
    r.logs.clear();
    Redraw(false);
  }

  static double Seconds(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  }

  void Redraw(bool force) {
    Clock::time_point now = Clock::now();
    if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    // Move up over what we drew last time and clear it.
    for (int i = 0; i < drawn_lines_; ++i) std::fputs("\x1b[1A\x1b[2K", out_);
    int lines = 0;
    size_t finished = std::count_if(rows_.begin(), rows_.end(), [](const Row& r) {
      return r.state != State::kRunning;
    });
    std::fprintf(out_, "[+] Building %.1fs (%zu/%zu)\n", Seconds(start_, now),
                 finished, rows_.size());
    ++lines;
    for (const Row& r : rows_) {
      double t = Seconds(r.begin, r.state == State::kRunning ? now : r.end);
      const char* tag = r.state == State::kCached ? " CACHED"
                        : r.state == State::kError ? " ERROR"
                                                   : "";
      std::fprintf(out_, " => %s%s %.1fs\n", r.name.c_str(), tag, t);
      ++lines;
      if (r.state == State::kRunning) {
        for (const std::string& l : r.logs) {
          std::fprintf(out_, " => => %s\n", l.substr(0, 120).c_str());
          ++lines;
        }
      }
    }
    drawn_lines_ = lines;
    std::fflush(out_);
  }

  std::mutex mu_;
  std::FILE* out_;
  Clock::time_point start_;
  Clock::time_point last_draw_{};
  std::vector<Row> rows_;
  int drawn_lines_ = 0;
};

}  // namespace

std::unique_ptr<ProgressSink> NewProgress(Progress mode, std::FILE* out) {
  bool tty = ::isatty(::fileno(out)) == 1;
  switch (mode) {
    case Progress::kQuiet:
      return std::make_unique<QuietProgress>();
    case Progress::kTty:
      return std::make_unique<TtyProgress>(out);
    case Progress::kAuto:
      if (tty) return std::make_unique<TtyProgress>(out);
      return std::make_unique<PlainProgress>(out);
    case Progress::kPlain:
    case Progress::kRawJson:
      return std::make_unique<PlainProgress>(out);
  }
  return std::make_unique<PlainProgress>(out);
}

PlainProgress::PlainProgress(std::FILE* out) : out_(out) {}

double PlainProgress::Elapsed(int id) const {
  return std::chrono::duration<double>(Clock::now() - steps_.at(id - 1).start)
      .count();
}

void PlainProgress::Header(int id) {
  if (last_id_ != id) {
    std::fprintf(out_, "\n#%d %s\n", id, steps_.at(id - 1).name.c_str());
    last_id_ = id;
  }
}

int PlainProgress::Start(std::string name) {
  std::lock_guard<std::mutex> lock(mu_);
  steps_.push_back({std::move(name), Clock::now()});
  int id = static_cast<int>(steps_.size());
  Header(id);
  std::fflush(out_);
  return id;
}

void PlainProgress::Log(int id, std::string_view line) {
  std::lock_guard<std::mutex> lock(mu_);
  Header(id);
  std::fprintf(out_, "#%d %.3f %.*s\n", id, Elapsed(id),
               static_cast<int>(line.size()), line.data());
  std::fflush(out_);
}

void PlainProgress::Status(int id, std::string_view text) {
  std::lock_guard<std::mutex> lock(mu_);
  Header(id);
  std::fprintf(out_, "#%d %.*s\n", id, static_cast<int>(text.size()),
               text.data());
  std::fflush(out_);
}

void PlainProgress::Cached(int id) {
  std::lock_guard<std::mutex> lock(mu_);
  Header(id);
  std::fprintf(out_, "#%d CACHED\n", id);
  std::fflush(out_);
}

void PlainProgress::Done(int id) {
  std::lock_guard<std::mutex> lock(mu_);
  Header(id);
  std::fprintf(out_, "#%d DONE %.1fs\n", id, Elapsed(id));
  std::fflush(out_);
}

void PlainProgress::Error(int id, std::string_view message) {
  std::lock_guard<std::mutex> lock(mu_);
  Header(id);
  std::fprintf(out_, "#%d ERROR: %.*s\n", id, static_cast<int>(message.size()),
               message.data());
  std::fflush(out_);
}

}  // namespace strata::build
