// `strata prune` and `strata du`: reclaiming and measuring the store.
#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include "build/gc.h"
#include "commands.h"
#include "flag_set.h"
#include "store_flags.h"

namespace strata::cli {
namespace {

constexpr char kPruneUsage[] =
    "Usage: strata prune [OPTIONS]\n"
    "\n"
    "Remove build cache and reclaim space. Cache records go: all of them\n"
    "with --all, else those unused for longer than --keep-duration, then\n"
    "the least recently used until the store fits in --keep-storage. Then\n"
    "every blob and unpacked layer that no image and no remaining cache\n"
    "record uses is deleted. Tagged images are kept ('strata rmi' untags\n"
    "them). Waits for running builds to finish.\n"
    "\n"
    "Options:\n";

constexpr char kDuUsage[] =
    "Usage: strata du [OPTIONS]\n"
    "\n"
    "Show how the store's disk space is used.\n"
    "\n"
    "Options:\n";

template <typename Parse>
FlagSet::Validator Check(Parse parse) {
  return [parse](const std::string& value) -> base::Status {
    auto parsed = parse(value);
    if (!parsed) return std::move(parsed).error();
    return base::OkStatus();
  };
}

// docker's confirmation prompt: true only for an answer of "y".
bool Confirm(const std::string& warning) {
  std::printf("%s\nAre you sure you want to continue? [y/N] ",
              warning.c_str());
  std::fflush(stdout);
  std::string answer;
  if (!std::getline(std::cin, answer)) std::printf("\n");  // EOF: no echo
  std::string_view trimmed = base::TrimAscii(answer);
  return trimmed == "y" || trimmed == "Y";
}

std::string PruneWarning(const build::PruneOptions& options,
                         const std::string& keep_duration,
                         const std::string& keep_storage) {
  const char kGarbage[] =
      "every blob and unpacked layer that no image or remaining cache "
      "record uses.";
  if (options.all) {
    return "WARNING! This will remove all build cache and every blob and "
           "unpacked layer that no image uses.";
  }
  if (!options.max_age && !options.max_bytes) {
    return base::StrCat("WARNING! This will remove ", kGarbage);
  }
  std::string what = "build cache";
  if (options.max_age) base::StrAppend(what, " unused for ", keep_duration);
  if (options.max_age && options.max_bytes) what += " and";
  if (options.max_bytes) {
    base::StrAppend(what, " beyond what fits in ", keep_storage);
  }
  return base::StrCat("WARNING! This will remove ", what, ", and ", kGarbage);
}

}  // namespace

int RunPrune(const std::vector<std::string>& args) {
  std::string root, keep_duration, keep_storage;
  bool all = false, force = false, help = false;
  FlagSet flags;
  flags.Bool("all", 'a', &all, "Remove all build cache, not just old cache");
  flags.String("keep-duration", 0, &keep_duration, "DURATION",
               "Keep cache used within this long (e.g. 24h, 90m)",
               Check(ParseDuration));
  flags.String("keep-storage", 0, &keep_storage, "SIZE",
               "Drop least recently used cache until the store fits in SIZE "
               "(e.g. 10GB)",
               Check(ParseByteSize));
  flags.Bool("force", 'f', &force, "Do not prompt for confirmation");
  AddRootFlag(flags, &root);
  flags.Bool("help", 'h', &help, "Print this help");
  base::Result<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional) return UsageError("prune", positional.error().message());
  if (help) {
    std::printf("%s%s", kPruneUsage, flags.Help().c_str());
    return kExitOk;
  }
  if (!positional->empty()) {
    return UsageError("prune", "accepts no arguments");
  }
  build::PruneOptions options;
  options.all = all;
  if (!keep_duration.empty()) options.max_age = *ParseDuration(keep_duration);
  if (!keep_storage.empty()) options.max_bytes = *ParseByteSize(keep_storage);

  base::Result<std::unique_ptr<store::Store>> store = OpenStore(root);
  if (!store) return PrintFailure(store.error());
  if (!force && !Confirm(PruneWarning(options, keep_duration, keep_storage))) {
    std::fprintf(stderr, "strata: prune has been cancelled\n");
    return kExitFailure;
  }
  base::Result<build::PruneReport> report = build::Prune(**store, options);
  if (!report) return PrintFailure(report.error());
  std::printf(
      "Deleted build cache records: %lld\nDeleted blobs: %lld\n"
      "Deleted unpacked layers: %lld\nDeleted cache mounts: %lld\n"
      "Total reclaimed space: %s\n",
      static_cast<long long>(report->cache_records),
      static_cast<long long>(report->blobs),
      static_cast<long long>(report->layer_dirs),
      static_cast<long long>(report->cache_mounts),
      HumanSize(report->bytes).c_str());
  return kExitOk;
}

namespace {

std::vector<std::string> UsageRow(const std::string& type,
                                  const build::Usage& usage) {
  return {type, std::to_string(usage.count), HumanSize(usage.bytes)};
}

void PrintVerbose(const build::DiskUsageReport& du, const std::string& root) {
  std::printf("\nStore: %s\n\nImages:\n", root.c_str());
  std::vector<std::vector<std::string>> rows = {{"NAME", "DIGEST", "SIZE"}};
  for (const build::ImageUsage& img : du.images) {
    base::Result<image::Reference> ref = image::ParseReference(img.name);
    rows.push_back({ref ? ref->Familiar() : img.name,
                    img.manifest.hex().substr(0, 12), HumanSize(img.bytes)});
  }
  std::fputs(FormatTable(rows).c_str(), stdout);

  std::printf("\nBuild cache:\n");
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  rows = {{"ID", "LAST USED", "SIZE", "SHARED"}};
  for (const build::CacheRecordUsage& c : du.cache_records) {
    rows.push_back({c.key.substr(0, 12),
                    HumanDuration(now - c.last_used) + " ago",
                    HumanSize(c.bytes), c.shared ? "true" : "false"});
  }
  std::fputs(FormatTable(rows).c_str(), stdout);

  std::printf("\nUnpacked layers:\n");
  rows = {{"DIFF ID", "SIZE", "USED BY"}};
  for (const build::LayerDirUsage& l : du.layer_dirs) {
    const char* user =
        l.used_by == build::LayerDirUsage::User::kImage   ? "image"
        : l.used_by == build::LayerDirUsage::User::kCache ? "cache"
                                                          : "-";
    rows.push_back({l.diff_id.hex().substr(0, 12), HumanSize(l.bytes), user});
  }
  std::fputs(FormatTable(rows).c_str(), stdout);
}

}  // namespace

int RunDu(const std::vector<std::string>& args) {
  std::string root;
  bool verbose = false, help = false;
  FlagSet flags;
  flags.Bool("verbose", 'v', &verbose,
             "Also list images, cache records and unpacked layers");
  AddRootFlag(flags, &root);
  flags.Bool("help", 'h', &help, "Print this help");
  base::Result<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional) return UsageError("du", positional.error().message());
  if (help) {
    std::printf("%s%s", kDuUsage, flags.Help().c_str());
    return kExitOk;
  }
  if (!positional->empty()) return UsageError("du", "accepts no arguments");
  base::Result<std::unique_ptr<store::Store>> store = OpenStore(root);
  if (!store) return PrintFailure(store.error());
  base::Result<build::DiskUsageReport> du = build::DiskUsage(**store);
  if (!du) return PrintFailure(du.error());
  std::vector<std::vector<std::string>> rows = {
      {"TYPE", "COUNT", "SIZE"},
      UsageRow("Image blobs", du->image_blobs),
      UsageRow("Cache blobs", du->cache_blobs),
      UsageRow("Unused blobs", du->unused_blobs),
      UsageRow("Unpacked layers", du->layers),
      UsageRow("Unused layers", du->unused_layers),
      UsageRow("Records", du->records),
      UsageRow("Temp files", du->tmp),
      UsageRow("Cache mounts", du->cache_mounts),
      UsageRow("Stat caches", du->stat_caches),
      {"Total", "", HumanSize(du->TotalBytes())},
  };
  std::fputs(FormatTable(rows).c_str(), stdout);
  std::printf("Reclaimable by 'strata prune': %s\n",
              HumanSize(du->unused_blobs.bytes + du->unused_layers.bytes)
                  .c_str());
  if (verbose) PrintVerbose(*du, (*store)->root());
  return kExitOk;
}

}  // namespace strata::cli
