// LayeredView end to end: layers written by LayerWriter and unpacked by
// ApplyLayer in overlay mode must look exactly like the same layers merged
// into one directory (ApplyMode::kMerge) and, where the test may mount, like
// a real overlayfs mount of the layer directories.
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string_view>
#include <tuple>

#include "base/digest.h"
#include "layer/apply.h"
#include "layer/view.h"
#include "layer/writer.h"
#include "layer_test_util.h"
#include "support/test_support.h"

namespace strata::layer {
namespace {

namespace fs = std::filesystem;
using testutil::Privileged;

// One line per entry, for comparisons of whole trees.
struct Line {
  std::string path, type;
  uint32_t mode = 0;
  int64_t uid = 0, gid = 0, size = 0;
  Timestamp mtime;
  std::string link, dev, content;
  std::vector<Xattr> xattrs;

  std::string ToString(bool with_mtime = true) const {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%o", mode);
    std::string out = base::StrCat(path, " ", type, " ", buf, " ", uid, ":",
                                   gid, " size=", size);
    if (with_mtime) base::StrAppend(out, " t=", mtime.sec, ".", mtime.nsec);
    if (!link.empty()) base::StrAppend(out, " -> ", link);
    if (!dev.empty()) base::StrAppend(out, " dev=", dev);
    if (!content.empty()) {
      base::StrAppend(out, " ", base::Digest::Of(content).hex().substr(0, 12));
    }
    for (const Xattr& x : xattrs)
      base::StrAppend(out, " ", x.name, "=", x.value);
    return out;
  }
};

// Every entry of the view below the root. Without mtimes for trees where
// a layer leaves a directory implicit, so it is made (or touched) at
// unpacking time.
std::string ViewListing(const LayeredView& view, bool with_mtime = true) {
  std::string out;
  base::Status s = view.Walk(
      "/", [&](const std::string& path, const ViewStat& st) -> base::Status {
        if (path == "/") return base::OkStatus();
        Line l;
        l.path = path;
        l.type = EntryTypeName(st.type);
        l.mode = st.mode;
        l.uid = st.uid;
        l.gid = st.gid;
        l.size = st.size;
        l.mtime = st.mtime;
        l.link = st.link_target;
        if (st.type == EntryType::kCharDevice ||
            st.type == EntryType::kBlockDevice) {
          l.dev = base::StrCat(st.dev_major, ",", st.dev_minor);
        }
        if (st.type == EntryType::kRegular) {
          STRATA_ASSIGN_OR_RETURN(auto source, view.Open(path));
          base::StringSink sink;
          STRATA_TRY(base::CopyStream(*source, sink));
          l.content = sink.str();
        }
        STRATA_ASSIGN_OR_RETURN(l.xattrs, view.Xattrs(path));
        base::StrAppend(out, l.ToString(with_mtime), "\n");
        return base::OkStatus();
      });
  if (!s) return "ERROR " + s.error().ToString();
  return out;
}

// The same listing read through a mounted overlayfs.
void ListMount(const std::string& host, const std::string& path,
               std::string* out, bool with_mtime = true) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(host)) {
    names.push_back(e.path().filename());
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::string h = host + "/" + name;
    std::string p = path + "/" + name;
    struct stat st;
    // overlayfs lists xattr whiteouts of unmarked directories that its
    // lookup then refuses; they are not entries.
    if (::lstat(h.c_str(), &st) != 0) continue;
    Line l;
    l.path = p;
    l.mode = st.st_mode & 07777;
    l.uid = st.st_uid;
    l.gid = st.st_gid;
    l.mtime = {st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
    switch (st.st_mode & S_IFMT) {
      case S_IFDIR:
        l.type = "dir";
        break;
      case S_IFLNK:
        l.type = "symlink";
        break;
      case S_IFCHR:
        l.type = "char";
        break;
      case S_IFBLK:
        l.type = "block";
        break;
      case S_IFIFO:
        l.type = "fifo";
        break;
      default:
        l.type = "file";
        l.size = st.st_size;
    }
    if (S_ISLNK(st.st_mode)) l.link = fs::read_symlink(h).string();
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      l.dev = base::StrCat(major(st.st_rdev), ",", minor(st.st_rdev));
    }
    if (S_ISREG(st.st_mode)) l.content = testutil::GetFile(h);
    char names_buf[4096];
    ssize_t n = ::llistxattr(h.c_str(), names_buf, sizeof(names_buf));
    for (ssize_t i = 0; i < n;) {
      std::string x(names_buf + i);
      i += static_cast<ssize_t>(x.size()) + 1;
      if (base::StartsWith(x, "trusted.overlay.") ||
          base::StartsWith(x, "user.overlay.")) {
        continue;
      }
      l.xattrs.push_back({x, testutil::GetXattrOf(h, x)});
    }
    std::sort(l.xattrs.begin(), l.xattrs.end(),
              [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
    base::StrAppend(*out, l.ToString(with_mtime), "\n");
    if (S_ISDIR(st.st_mode)) ListMount(h, p, out, with_mtime);
  }
}

// Mounts `lowers` (bottom first) read-only at `target` until destroyed.
class ScopedOverlayMount {
 public:
  ScopedOverlayMount(const std::vector<std::string>& lowers,
                     const std::string& target, bool userxattr) {
    std::string opts = "lowerdir=";
    for (auto it = lowers.rbegin(); it != lowers.rend(); ++it) {
      if (it != lowers.rbegin()) opts += ":";
      opts += *it;
    }
    if (userxattr) opts += ",userxattr";
    mounted_ = ::mount("overlay", target.c_str(), "overlay", MS_RDONLY,
                       opts.c_str()) == 0;
    if (!mounted_) error_ = base::ErrnoText(errno);
    target_ = target;
  }
  ~ScopedOverlayMount() {
    if (mounted_) ::umount2(target_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  bool mounted_ = false;
  std::string target_, error_;
};

// Xattr whiteouts with "opaque=x" markers: Linux 6.8 (and 6.7.y).
bool KernelHasXattrWhiteouts() {
  utsname u;
  if (::uname(&u) != 0) return false;
  int major = 0, minor = 0;
  if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 8);
}

// ---- the layers ----

class Adder {
 public:
  Adder(LayerWriter& w, int64_t mtime) : w_(w), mtime_(mtime) {}
  void Dir(const std::string& path, uint32_t mode = 0755, int64_t uid = 0) {
    Entry e = Make(EntryType::kDirectory, path, mode);
    e.uid = e.gid = uid;
    Add(e);
  }
  void File(const std::string& path, const std::string& data,
            uint32_t mode = 0644, std::vector<Xattr> xattrs = {}) {
    Entry e = Make(EntryType::kRegular, path, mode);
    e.size = static_cast<int64_t>(data.size());
    e.xattrs = std::move(xattrs);
    base::StringSource source(data);
    base::Status s = w_.AddFile(e, source);
    EXPECT_TRUE(s) << path << ": " << s.error().ToString();
  }
  void Link(const std::string& path, const std::string& target) {
    Entry e = Make(EntryType::kSymlink, path, 0777);
    e.link_target = target;
    Add(e);
  }
  // The mode applies to the shared inode, as in a real hard link.
  void Hard(const std::string& path, const std::string& target, uint32_t mode) {
    Entry e = Make(EntryType::kHardlink, path, mode);
    e.link_target = target;
    Add(e);
  }
  void Node(EntryType type, const std::string& path, uint32_t maj = 0,
            uint32_t min = 0) {
    Entry e = Make(type, path, 0640);
    e.dev_major = maj;
    e.dev_minor = min;
    Add(e);
  }
  void Whiteout(const std::string& dir, const std::string& name) {
    base::Status s = w_.AddWhiteout(dir, name);
    EXPECT_TRUE(s) << s.error().ToString();
  }
  void Opaque(const std::string& dir) {
    base::Status s = w_.AddOpaqueWhiteout(dir);
    EXPECT_TRUE(s) << s.error().ToString();
  }

 private:
  Entry Make(EntryType type, const std::string& path, uint32_t mode) const {
    Entry e;
    e.type = type;
    e.path = path;
    e.mode = mode;
    e.mtime.sec = mtime_;
    return e;
  }
  void Add(const Entry& e) {
    base::Status s = w_.Add(e);
    EXPECT_TRUE(s) << e.path << ": " << s.error().ToString();
  }
  LayerWriter& w_;
  int64_t mtime_;
};

// Every layer names the directories it touches (as containerd's differ
// does), so merge mode sets the same directory metadata as overlay mode.
std::vector<std::string> Layers() {
  std::vector<std::string> blobs;
  auto add = [&](int64_t mtime, auto fn) {
    blobs.push_back(testutil::WriteLayer(WriterOptions{}, [&](LayerWriter& w) {
                      Adder a(w, mtime);
                      fn(a);
                    }).first);
  };
  add(1000, [](Adder& a) {
    a.Dir("bin");
    a.File("bin/tool", "tool v1", 0755);
    a.Hard("bin/tool2", "bin/tool", 0755);
    a.Link("bin/sh", "tool");
    a.File("bin/su", "su", 04755);
    a.File("data", "plain");
    a.Dir("dev");
    a.Node(EntryType::kCharDevice, "dev/null", 1, 3);
    a.Node(EntryType::kFifo, "dev/fifo");
    a.Dir("etc");
    a.File("etc/group", "root:x:0:\n");
    a.File("etc/passwd", "root:x:0:0::/root:/bin/sh\n");
    a.File("etc/shadow", "s", 0640);
    a.Dir("opt");
    a.Dir("opt/app", 0700);
    a.File("opt/app/a", "a", 0644, {{"user.note", "v1"}});
    a.Dir("opt/app/sub");
    a.File("opt/app/sub/b", "b");
    a.Dir("srv");
    a.File("srv/inner", "i");
    a.Dir("var");
    a.Dir("var/cache");
    a.Dir("var/cache/junk");
    a.File("var/cache/junk/j", "j");
    a.File("var/cache/keep", "k");
  });
  add(2000, [](Adder& a) {
    a.Dir("data", 0700);  // a directory over a file
    a.File("data/y", "y");
    a.Dir("etc", 0750);
    a.Whiteout("etc", "shadow");
    a.Whiteout("etc", "never-existed");
    a.File("etc/passwd", "root:x:0:0::/root:/bin/sh\nu:x:1000:1000::/:\n");
    a.Dir("opt");
    a.Dir("opt/app", 0711);
    a.Opaque("opt/app");
    a.File("opt/app/new", "n", 0600, {{"user.note", "v2"}});
    a.File("srv", "now a file");  // a file over a directory
    a.Dir("usr");
    a.Dir("usr/lib");
    a.File("usr/lib/libx.so.1", "x1");
    a.Link("usr/lib/libx.so", "libx.so.1");
    a.Dir("var");
    a.Dir("var/cache");
    a.Whiteout("var/cache", "junk");
  });
  add(3000, [](Adder& a) {
    a.Dir("bin");
    a.File("bin/tool", "tool v2", 0755);  // bin/tool2 keeps v1
    a.Whiteout("", "data");
    a.Dir("etc", 0755, 7);
    a.File("etc/shadow", "s2", 0600);  // back after the whiteout
    a.Dir("fresh");
    a.Opaque("fresh");  // opaque over nothing
    a.File("fresh/f", "f");
    a.Dir("opt");
    a.Dir("opt/app", 0755, 1000);
    a.File("opt/app/third", "3");
    a.Dir("srv");  // a directory over a file over a directory
    a.File("srv/fresh", "f");
    a.Dir("usr");
    a.Dir("usr/lib");
    a.File("usr/lib/libx.so.2", "x2");
    a.Link("usr/lib/libx.so", "libx.so.2");
    a.Dir("var");
    a.Whiteout("var", "cache");
    a.Dir("var/log");
    a.File("var/log/l", "l");
  });
  return blobs;
}

struct Form {
  std::string name;
  bool xattr_whiteouts;
  bool user_xattrs;
};

void PrintTo(const Form& form, std::ostream* os) { *os << form.name; }

class ViewApplyTest : public ::testing::TestWithParam<Form> {
 protected:
  void SetUp() override {
    // Without root, ownership is not restored (ViewApplyRootlessTest
    // covers that case).
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (!GetParam().user_xattrs && !Privileged()) {
      GTEST_SKIP() << "needs mknod and trusted.* xattrs";
    }
  }

  // Unpacks each layer into its own directory; returns them bottom first.
  std::vector<std::string> UnpackOverlay() {
    std::vector<std::string> dirs;
    ApplyOptions options;
    options.mode = ApplyMode::kOverlay;
    options.overlay_user_xattrs = GetParam().user_xattrs;
    options.overlay_xattr_whiteouts = GetParam().xattr_whiteouts;
    std::vector<std::string> blobs = Layers();
    for (size_t i = 0; i < blobs.size(); ++i) {
      std::string dir = base::StrCat(tmp_.path(), "/layer", i);
      fs::create_directory(dir);
      auto stats = testutil::ApplyBlob(blobs[i], dir, options);
      EXPECT_TRUE(stats) << stats.error().ToString();
      dirs.push_back(dir);
    }
    return dirs;
  }

  testing::ScopedTempDir tmp_;
};

TEST_P(ViewApplyTest, OverlayLayersLookLikeTheMergedTree) {
  std::string merged = tmp_.path() + "/merged";
  fs::create_directory(merged);
  for (const std::string& blob : Layers()) {
    auto stats = testutil::ApplyBlob(blob, merged);
    ASSERT_TRUE(stats) << stats.error().ToString();
  }
  std::string expected = ViewListing(LayeredView({merged}));
  std::string actual = ViewListing(LayeredView(UnpackOverlay()));
  EXPECT_EQ(actual, expected);
  // Spot checks, so that a bug shared by both sides still shows.
  EXPECT_NE(expected.find("/bin/tool2 file 755 0:0 size=7"), std::string::npos);
  EXPECT_NE(expected.find("/etc/shadow file 600"), std::string::npos);
  EXPECT_EQ(expected.find("/data"), std::string::npos);
  EXPECT_EQ(expected.find("/var/cache"), std::string::npos);
  EXPECT_EQ(expected.find("/opt/app/a"), std::string::npos);
  EXPECT_NE(expected.find("/opt/app dir 755 1000:1000"), std::string::npos);
  EXPECT_NE(expected.find("/srv/fresh"), std::string::npos);
  EXPECT_EQ(expected.find("/srv/inner"), std::string::npos);
}

TEST_P(ViewApplyTest, OverlayLayersLookLikeAnOverlayfsMount) {
  if (GetParam().xattr_whiteouts && !KernelHasXattrWhiteouts()) {
    GTEST_SKIP() << "kernel without xattr whiteouts";
  }
  std::vector<std::string> dirs = UnpackOverlay();
  std::string target = tmp_.path() + "/mnt";
  fs::create_directory(target);
  ScopedOverlayMount mount(dirs, target, GetParam().user_xattrs);
  if (!mount.mounted()) GTEST_SKIP() << "cannot mount: " << mount.error();
  std::string expected;
  ListMount(target, "", &expected);
  EXPECT_EQ(ViewListing(LayeredView(dirs)), expected);
}

INSTANTIATE_TEST_SUITE_P(Forms, ViewApplyTest,
                         ::testing::Values(Form{"device", false, false},
                                           Form{"xattr_trusted", true, false},
                                           Form{"xattr_user", true, true}),
                         [](const ::testing::TestParamInfo<Form>& info) {
                           return testing::SanitizeTestName(info.param.name);
                         });

// The kernel's own corner cases, on a stack built by hand.
TEST(ViewMountTest, EdgeCasesLookLikeAnOverlayfsMount) {
  if (!Privileged() || !KernelHasXattrWhiteouts()) {
    GTEST_SKIP() << "needs mknod, trusted.* xattrs and Linux 6.8";
  }
  testing::ScopedTempDir tmp;
  std::vector<std::string> dirs;
  for (int i = 0; i < 3; ++i) {
    dirs.push_back(base::StrCat(tmp.path(), "/l", i));
  }
  auto put = [&](int layer, const std::string& rel, const std::string& data) {
    testutil::PutFile(dirs[layer] + "/" + rel, data);
  };
  auto xattr = [&](int layer, const std::string& rel, const std::string& name,
                   const std::string& value) {
    std::string path = dirs[layer] + (rel.empty() ? "" : "/" + rel);
    ASSERT_EQ(
        ::lsetxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0),
        0)
        << path;
  };
  auto node = [&](int layer, const std::string& rel, mode_t type, int maj,
                  int min) {
    std::string path = dirs[layer] + "/" + rel;
    fs::create_directories(fs::path(path).parent_path());
    ASSERT_EQ(::mknod(path.c_str(), type | 0600, makedev(maj, min)), 0);
  };
  for (const char* d : {"x", "y", "z", "n", "w"}) {
    put(0, base::StrCat(d, "/lower"), "l");
    put(1, base::StrCat(d, "/mid"), "m");
  }
  put(0, "root0", "r");
  put(1, "root1", "r");
  xattr(1, "", "trusted.overlay.opaque", "y");  // ignored on a root
  xattr(1, "x", "trusted.overlay.opaque", "x");
  xattr(1, "y", "trusted.overlay.opaque", "y");
  xattr(1, "z", "trusted.overlay.opaque", "z");
  put(2, "x/lower", "");  // xattr whiteout in a marked directory
  xattr(2, "x/lower", "trusted.overlay.whiteout", "y");
  xattr(2, "x", "trusted.overlay.opaque", "x");
  put(2, "n/lower", "");  // ... in an unmarked one
  xattr(2, "n/lower", "trusted.overlay.whiteout", "");
  put(2, "n/mid", "not empty");
  xattr(2, "n/mid", "trusted.overlay.whiteout", "y");
  node(2, "w/lower", S_IFCHR, 0, 0);
  node(2, "w/chr", S_IFCHR, 0, 1);
  node(2, "w/blk", S_IFBLK, 0, 0);
  node(0, "ghost", S_IFCHR, 0, 0);
  node(2, "root0", S_IFCHR, 0, 0);
  put(2, "root1/now-a-dir", "d");
  std::string target = tmp.path() + "/mnt";
  fs::create_directory(target);
  ScopedOverlayMount mount(dirs, target, /*userxattr=*/false);
  if (!mount.mounted()) GTEST_SKIP() << "cannot mount: " << mount.error();
  std::string expected;
  ListMount(target, "", &expected);
  std::string actual = ViewListing(LayeredView(dirs));
  EXPECT_EQ(actual, expected);
  EXPECT_EQ(actual.find("/x/lower"), std::string::npos);
  EXPECT_EQ(actual.find("/n/lower"), std::string::npos);
  EXPECT_EQ(actual.find("/y/lower"), std::string::npos);
  EXPECT_NE(actual.find("/z/lower"), std::string::npos);
  EXPECT_NE(actual.find("/n/mid file 644 0:0 size=9"), std::string::npos);
}

// ---- whiteouts and the directories of one layer, in either order ----

using testutil::RawEntry;

RawEntry RawFile(std::string name, std::string data = "") {
  RawEntry e;
  e.name = std::move(name);
  e.data = std::move(data);
  return e;
}

RawEntry RawDir(std::string name, int mode = 0755) {
  RawEntry e;
  e.type = 'd';
  e.name = std::move(name);
  e.mode = mode;
  return e;
}

// A stack of hand-made layers (marker orders LayerWriter never writes)
// whose overlay-mode unpacking must look like merge mode, which follows
// the OCI image-spec: a whiteout hides what the lower layers have, never
// what its own layer writes, wherever it sits among the layer's entries.
struct StackCase {
  std::string name;
  std::vector<std::vector<RawEntry>> layers;  // bottom first
  std::vector<std::string> present;  // starts of lines in the merged listing
  std::vector<std::string> absent;   // paths missing from it
  bool lowers = false;               // pass ApplyOptions::lower_dirs
  bool with_mtime = true;  // false when a layer leaves a directory implicit
};

void PrintTo(const StackCase& c, std::ostream* os) { *os << c.name; }

std::vector<RawEntry> BaseLayer() {
  return {RawDir("d"),        RawFile("d/old", "o"),
          RawDir("d/sub"),    RawFile("d/sub/x", "x"),
          RawDir("e"),        RawFile("e/keep", "k"),
          RawFile("top", "t")};
}

std::vector<StackCase> StackCases() {
  const std::vector<std::string> new_d = {"/d dir 700", "/d/new file",
                                          "/e/keep file", "/top file"};
  const std::vector<std::string> no_old_d = {"/d/old", "/d/sub"};
  const std::vector<std::string> only_fresh = {"/d", "/e", "/top"};
  return {
      {.name = "whiteout_then_dir",
       .layers = {BaseLayer(),
                  {RawFile(".wh.d"), RawDir("d", 0700), RawFile("d/new", "n")}},
       .present = new_d,
       .absent = no_old_d},
      {.name = "dir_then_whiteout",
       .layers = {BaseLayer(),
                  {RawDir("d", 0700), RawFile("d/new", "n"), RawFile(".wh.d")}},
       .present = new_d,
       .absent = no_old_d},
      {.name = "whiteout_then_implicit_dir",
       .layers = {BaseLayer(), {RawFile(".wh.d"), RawFile("d/new", "n")}},
       .present = {"/d dir", "/d/new file"},
       .absent = no_old_d,
       .with_mtime = false},
      {.name = "implicit_dir_then_whiteout",
       .layers = {BaseLayer(), {RawFile("d/new", "n"), RawFile(".wh.d")}},
       .present = {"/d dir", "/d/new file"},
       .absent = no_old_d,
       .with_mtime = false},
      {.name = "whiteout_then_markers_below",
       .layers = {BaseLayer(),
                  {RawFile(".wh.d"), RawFile("d/.wh.old"),
                   RawFile("d/.wh..wh..opq")}},
       .present = {"/d dir"},
       .absent = no_old_d,
       .with_mtime = false},
      {.name = "nested_whiteout_then_dir",
       .layers = {BaseLayer(),
                  {RawDir("d"), RawFile("d/.wh.sub"), RawDir("d/sub", 0700),
                   RawFile("d/sub/y", "y")}},
       .present = {"/d/old file", "/d/sub dir 700", "/d/sub/y file"},
       .absent = {"/d/sub/x"}},
      {.name = "root_opaque_first",
       .layers = {BaseLayer(),
                  {RawFile(".wh..wh..opq"), RawDir("d", 0700),
                   RawFile("d/new", "n"), RawFile("fresh", "f")}},
       .present = {"/d dir 700", "/d/new file", "/fresh file"},
       .absent = {"/d/old", "/d/sub", "/e", "/top"},
       .lowers = true},
      {.name = "root_opaque_last",
       .layers = {BaseLayer(),
                  {RawDir("d", 0700), RawFile("d/new", "n"),
                   RawFile("fresh", "f"), RawFile(".wh..wh..opq")}},
       .present = {"/d dir 700", "/d/new file", "/fresh file"},
       .absent = {"/d/old", "/d/sub", "/e", "/top"},
       .lowers = true},
      {.name = "root_opaque_dot_slash",
       .layers = {BaseLayer(),
                  {RawFile("./.wh..wh..opq"), RawFile("./fresh", "f")}},
       .present = {"/fresh file"},
       .absent = only_fresh,
       .lowers = true},
      {.name = "root_opaque_hides_dir_of_whiteouts",
       .layers = {BaseLayer(),
                  {RawFile("e/.wh.keep"), RawFile(".wh..wh..opq"),
                   RawFile("fresh", "f")}},
       .present = {"/fresh file"},
       .absent = only_fresh,
       .lowers = true},
      {.name = "root_opaque_three_layers",
       .layers = {BaseLayer(),
                  {RawFile(".wh.e"), RawFile("mid", "m"), RawDir("d"),
                   RawFile("d/m", "m")},
                  {RawFile(".wh..wh..opq"), RawFile(".wh.mid"),
                   RawFile("d/sub/y", "y")}},
       .present = {"/d dir", "/d/sub dir", "/d/sub/y file"},
       .absent = {"/d/m", "/d/old", "/d/sub/x", "/e", "/mid", "/top"},
       .lowers = true,
       .with_mtime = false},
      {.name = "root_opaque_over_scratch",
       .layers = {{RawFile(".wh..wh..opq"), RawFile("a", "a")}},
       .present = {"/a file"},
       .absent = {},
       .lowers = true},
  };
}

class StackTest : public ::testing::TestWithParam<std::tuple<StackCase, Form>> {
 protected:
  void SetUp() override {
    if (!form().user_xattrs && !Privileged()) {
      GTEST_SKIP() << "needs mknod and trusted.* xattrs";
    }
  }
  const StackCase& stack() const { return std::get<0>(GetParam()); }
  const Form& form() const { return std::get<1>(GetParam()); }

  testing::ScopedTempDir tmp_;
};

TEST_P(StackTest, OverlayLayersLookLikeTheMergedTree) {
  ApplyOptions merge;
  merge.ownership = Ownership::kIgnore;
  ApplyOptions overlay = merge;
  overlay.mode = ApplyMode::kOverlay;
  overlay.overlay_user_xattrs = form().user_xattrs;
  overlay.overlay_xattr_whiteouts = form().xattr_whiteouts;
  std::string merged = tmp_.path() + "/merged";
  fs::create_directory(merged);
  std::vector<std::string> dirs;
  for (const std::vector<RawEntry>& layer : stack().layers) {
    std::string blob = testutil::MakeRawTar(layer);
    auto stats = testutil::ApplyBlob(blob, merged, merge);
    ASSERT_TRUE(stats) << stats.error().ToString();
    if (stack().lowers) overlay.lower_dirs = dirs;
    std::string dir = base::StrCat(tmp_.path(), "/layer", dirs.size());
    fs::create_directory(dir);
    stats = testutil::ApplyBlob(blob, dir, overlay);
    ASSERT_TRUE(stats) << stats.error().ToString();
    dirs.push_back(dir);
  }
  std::string expected = ViewListing(LayeredView({merged}), stack().with_mtime);
  EXPECT_EQ(ViewListing(LayeredView(dirs), stack().with_mtime), expected);
  // Spot checks, so that a bug shared by both modes still shows.
  for (const std::string& line : stack().present) {
    EXPECT_NE(("\n" + expected).find("\n" + line), std::string::npos) << line;
  }
  for (const std::string& path : stack().absent) {
    std::string text = "\n" + expected;
    EXPECT_EQ(text.find("\n" + path + " "), std::string::npos) << path;
    EXPECT_EQ(text.find("\n" + path + "/"), std::string::npos) << path;
  }
  // And the kernel agrees, where the test may mount (overlayfs wants two
  // lower dirs when there is no upper one).
  if (dirs.size() < 2 || ::geteuid() != 0 ||
      (form().xattr_whiteouts && !KernelHasXattrWhiteouts())) {
    return;
  }
  std::string target = tmp_.path() + "/mnt";
  fs::create_directory(target);
  ScopedOverlayMount mount(dirs, target, form().user_xattrs);
  if (!mount.mounted()) return;
  std::string mounted;
  ListMount(target, "", &mounted, stack().with_mtime);
  EXPECT_EQ(mounted, expected);
}

INSTANTIATE_TEST_SUITE_P(
    Stacks, StackTest,
    ::testing::Combine(::testing::ValuesIn(StackCases()),
                       ::testing::Values(Form{"device", false, false},
                                         Form{"xattr_trusted", true, false},
                                         Form{"xattr_user", true, true})),
    [](const ::testing::TestParamInfo<std::tuple<StackCase, Form>>& info) {
      return testing::SanitizeTestName(base::StrCat(
          std::get<0>(info.param).name, "_", std::get<1>(info.param).name));
    });

// ---- without root ----

constexpr uid_t kNobody = 65534;

// Runs `fn` in a child process as uid/gid 65534 when we are root (so that
// root's permission overrides do not hide a bug), in this process
// otherwise, and returns its result ("child failed" if it died).
std::string RunUnprivileged(const std::function<std::string()>& fn) {
  if (::geteuid() != 0) return fn();
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    if (::setgroups(0, nullptr) != 0 ||
        ::setresgid(kNobody, kNobody, kNobody) != 0 ||
        ::setresuid(kNobody, kNobody, kNobody) != 0) {
      ::_exit(2);
    }
    std::string text = fn();
    ssize_t n = ::write(fds[1], text.data(), text.size());
    ::_exit(n == static_cast<ssize_t>(text.size()) ? 0 : 3);
  }
  ::close(fds[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof(buf))) > 0) {
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "child failed";
  return text;
}

// Unpacks Layers() both ways into `work` and returns the two listings,
// merged first, separated by kSplit; or the first error.
constexpr std::string_view kSplit = "=====\n";

std::string UnpackBothWays(const std::vector<std::string>& blobs,
                           const std::string& work, bool xattr_whiteouts) {
  std::string merged = work + "/merged";
  if (::mkdir(merged.c_str(), 0755) != 0) return "mkdir failed";
  ApplyOptions overlay;
  overlay.mode = ApplyMode::kOverlay;
  overlay.overlay_user_xattrs = true;  // rootless overlayfs: userxattr
  overlay.overlay_xattr_whiteouts = xattr_whiteouts;
  std::vector<std::string> dirs;
  int64_t xattr_whiteouts_written = 0;
  for (const std::string& blob : blobs) {
    auto stats = testutil::ApplyBlob(blob, merged);
    if (!stats) return "merge: " + stats.error().ToString();
    dirs.push_back(base::StrCat(work, "/layer", dirs.size()));
    if (::mkdir(dirs.back().c_str(), 0755) != 0) return "mkdir failed";
    stats = testutil::ApplyBlob(blob, dirs.back(), overlay);
    if (!stats) return "overlay: " + stats.error().ToString();
    xattr_whiteouts_written += stats->xattr_whiteouts;
  }
  if (xattr_whiteouts && xattr_whiteouts_written == 0) {
    return "no xattr whiteouts written";
  }
  return base::StrCat(ViewListing(LayeredView({merged})), kSplit,
                      ViewListing(LayeredView(dirs)));
}

TEST(ViewApplyRootlessTest, OverlayLayersLookLikeTheMergedTree) {
  testing::ScopedTempDir tmp;
  std::vector<std::string> blobs = Layers();
  // A device the caller may not make, over the lower dev/fifo: merge mode
  // removes the fifo and skips the device, so overlay mode must hide it.
  blobs.push_back(testutil::WriteLayer(WriterOptions{}, [](LayerWriter& w) {
                    Adder a(w, 4000);
                    a.Dir("dev");
                    a.Node(EntryType::kCharDevice, "dev/fifo", 1, 3);
                  }).first);
  for (bool xattr_whiteouts : {true, false}) {
    SCOPED_TRACE(xattr_whiteouts ? "xattr whiteouts" : "device whiteouts");
    std::string work =
        base::StrCat(tmp.path(), "/work", xattr_whiteouts ? "x" : "d");
    ASSERT_EQ(::mkdir(work.c_str(), 0755), 0);
    if (::geteuid() == 0) {
      ASSERT_EQ(::chmod(tmp.path().c_str(), 0711), 0);
      ASSERT_EQ(::chown(work.c_str(), kNobody, kNobody), 0);
    }
    std::string out = RunUnprivileged(
        [&] { return UnpackBothWays(blobs, work, xattr_whiteouts); });
    size_t split = out.find(kSplit);
    ASSERT_NE(split, std::string::npos) << out;
    std::string expected = out.substr(0, split);
    EXPECT_EQ(out.substr(split + kSplit.size()), expected);
    EXPECT_NE(expected.find("/etc/shadow file 600"), std::string::npos);
    EXPECT_EQ(expected.find("/opt/app/a "), std::string::npos);
    EXPECT_EQ(expected.find("/dev/fifo "), std::string::npos);
  }
}

}  // namespace
}  // namespace strata::layer
