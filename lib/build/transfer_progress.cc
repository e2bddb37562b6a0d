#include "build/transfer_progress.h"

#include <algorithm>

#include "base/go_units.h"

namespace strata::build {

namespace {

// Redraws at most this often: a blob reports every read.
constexpr std::chrono::milliseconds kRedrawInterval{100};

}  // namespace

TransferDisplay::Row& TransferDisplay::RowFor(const std::string& id) {
  for (Row& r : rows_) {
    if (r.id == id) return r;
  }
  Row& r = rows_.emplace_back();
  r.id = id;
  r.start = Clock::now();
  return r;
}

void TransferDisplay::Update(const TransferUpdate& update) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!live_) {
    if (update.kind == TransferUpdate::kLine) {
      std::fprintf(out_, "%s\n", update.text.c_str());
      std::fflush(out_);
    }
    return;
  }
  if (update.kind == TransferUpdate::kBytes) {
    Row& r = RowFor(update.id);
    r.action = update.action;
    r.done = update.done;
    r.total = update.total;
    if (Clock::now() - last_draw_ >= kRedrawInterval) Redraw();
    return;
  }
  if (update.id.empty()) {
    // A line about no blob (the pushed digest) comes after the blobs: it
    // stays below them, and rows that come later start under it.
    Redraw();
    std::fprintf(out_, "%s\n", update.text.c_str());
    std::fflush(out_);
    rows_.clear();
    drawn_ = 0;
    return;
  }
  Row& r = RowFor(update.id);
  r.text = update.text;
  r.finished = true;
  Redraw();
}

void TransferDisplay::Redraw() {
  last_draw_ = Clock::now();
  if (drawn_ > 0) std::fprintf(out_, "\x1b[%dA", drawn_);
  for (const Row& r : rows_) {
    std::fputs("\r\x1b[2K", out_);
    if (r.finished) {
      std::fprintf(out_, "%s\n", r.text.c_str());
      continue;
    }
    double seconds =
        std::chrono::duration<double>(last_draw_ - r.start).count();
    std::string rate = base::HumanSize(static_cast<int64_t>(
        static_cast<double>(r.done) / std::max(seconds, 1e-3)));
    std::string total = r.total >= 0 ? "/" + base::HumanSize(r.total) : "";
    std::fprintf(out_, "%s: %s %s%s %s/s\n", r.id.c_str(), r.action.c_str(),
                 base::HumanSize(r.done).c_str(), total.c_str(), rate.c_str());
  }
  drawn_ = static_cast<int>(rows_.size());
  std::fflush(out_);
}

}  // namespace strata::build
