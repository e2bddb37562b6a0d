// `strata images` and `strata rmi`: listing and untagging local images.
#include <cstdio>
#include <ctime>
#include <set>
#include <string>
#include <vector>

#include "commands.h"
#include "flag_set.h"
#include "store_flags.h"

namespace strata::cli {
namespace {

constexpr char kImagesUsage[] =
    "Usage: strata images [OPTIONS] [REPOSITORY[:TAG]]\n"
    "\n"
    "List the images in the local store, by name. IMAGE ID is the config\n"
    "digest (what --iidfile writes); SIZE counts the stored blobs.\n"
    "\n"
    "Options:\n";

constexpr char kRmiUsage[] =
    "Usage: strata rmi [OPTIONS] IMAGE [IMAGE...]\n"
    "\n"
    "Untag images (by name, or by image ID or digest prefix: every tag of\n"
    "that image). Their blobs are deleted by the next 'strata prune'.\n"
    "\n"
    "Options:\n";

// The created column: "2 hours ago", or "N/A" without a time.
std::string CreatedColumn(const std::string& created, int64_t now) {
  std::optional<int64_t> when = ParseRfc3339(created);
  if (!when || *when <= 0) return "N/A";
  return HumanDuration(now - *when) + " ago";
}

// Keeps the images a REPOSITORY[:TAG] argument names.
std::vector<ImageInfo> Filter(std::vector<ImageInfo> all,
                              const image::Reference& want, bool tag_given) {
  std::vector<ImageInfo> out;
  for (ImageInfo& info : all) {
    if (info.entry.ref.Name() != want.Name()) continue;
    if (tag_given && info.entry.ref.tag != want.tag) continue;
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace

int RunImages(const std::vector<std::string>& args) {
  std::string root;
  bool quiet = false, digests = false, no_trunc = false, help = false;
  FlagSet flags;
  flags.Bool("quiet", 'q', &quiet, "Only show image IDs");
  flags.Bool("digests", 0, &digests, "Show digests");
  flags.Bool("no-trunc", 0, &no_trunc, "Don't truncate output");
  AddRootFlag(flags, &root);
  flags.Bool("help", 'h', &help, "Print this help");
  base::Result<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional) return UsageError("images", positional.error().message());
  if (help) {
    std::printf("%s%s", kImagesUsage, flags.Help().c_str());
    return kExitOk;
  }
  if (positional->size() > 1) {
    return UsageError("images", "accepts at most 1 argument");
  }
  std::optional<image::Reference> want;
  if (positional->size() == 1) {
    base::Result<image::Reference> ref =
        image::ParseReference(positional->front());
    if (!ref) return UsageError("images", ref.error().message());
    want = std::move(ref).value();
  }
  base::Result<std::unique_ptr<store::Store>> store = OpenStore(root);
  if (!store) return PrintFailure(store.error());
  base::Result<std::vector<ImageInfo>> all = ListImageInfos(**store);
  if (!all) return PrintFailure(all.error());
  std::vector<ImageInfo> infos = std::move(all).value();
  if (want) infos = Filter(std::move(infos), *want, !want->tag.empty());

  auto id = [&](const ImageInfo& info) {
    return no_trunc ? info.id.ToString() : info.id.hex().substr(0, 12);
  };
  if (quiet) {
    for (const ImageInfo& info : infos) std::printf("%s\n", id(info).c_str());
    return kExitOk;
  }
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"REPOSITORY", "TAG"});
  if (digests) rows.back().push_back("DIGEST");
  rows.back().insert(rows.back().end(), {"IMAGE ID", "CREATED", "SIZE"});
  for (const ImageInfo& info : infos) {
    std::vector<std::string> row = {FamiliarRepository(info.entry.ref),
                                    info.entry.ref.tag};
    if (digests) row.push_back(info.entry.manifest.digest.ToString());
    row.insert(row.end(), {id(info), CreatedColumn(info.created, now),
                           HumanSize(info.size)});
    rows.push_back(std::move(row));
  }
  std::fputs(FormatTable(rows).c_str(), stdout);
  return kExitOk;
}

int RunRmi(const std::vector<std::string>& args) {
  std::string root;
  bool help = false;
  FlagSet flags;
  AddRootFlag(flags, &root);
  flags.Bool("help", 'h', &help, "Print this help");
  base::Result<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional) return UsageError("rmi", positional.error().message());
  if (help) {
    std::printf("%s%s", kRmiUsage, flags.Help().c_str());
    return kExitOk;
  }
  if (positional->empty()) {
    return UsageError("rmi", "requires at least 1 argument");
  }
  base::Result<std::unique_ptr<store::Store>> store = OpenStore(root);
  if (!store) return PrintFailure(store.error());
  // Untagging deletes one record atomically and no blob, so it needs no
  // store lock: a running build keeps what it uses until prune.
  int status = kExitOk;
  for (const std::string& name : *positional) {
    // A tag is untagged directly, so even a damaged record can go.
    base::Result<image::Reference> ref = image::ParseReference(name);
    std::string shown = name;
    if (ref && ref->digest.empty()) {
      image::Reference tagged = *ref;
      tagged.tag = ref->TagOrLatest();
      shown = tagged.Familiar();
      base::Status st = image::UntagImage(**store, *ref);
      if (st) {
        std::printf("Untagged: %s\n", shown.c_str());
        continue;
      }
      if (st.error().code() != base::Code::kNotFound) {
        status = PrintFailure(st.error());
        continue;
      }
    }
    base::Result<std::vector<ImageInfo>> all = ListImageInfos(**store);
    if (!all) return PrintFailure(all.error());
    std::vector<ImageInfo> found = FindImages(*all, name);
    if (found.empty()) {
      std::fprintf(stderr, "strata: no such image: %s\n", shown.c_str());
      status = kExitFailure;
      continue;
    }
    for (const ImageInfo& info : found) {
      base::Status st = image::UntagImage(**store, info.entry.ref);
      if (!st) {
        status = PrintFailure(st.error());
        continue;
      }
      std::printf("Untagged: %s\n", info.entry.ref.Familiar().c_str());
    }
  }
  return status;
}

}  // namespace strata::cli
