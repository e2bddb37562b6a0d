// RUN --mount / --device values: every mount type and option, and the
// errors, as BuildKit's commands_runmount.go / commands_rundevice.go give.
#include "dockerfile/run_mount.h"

#include <gtest/gtest.h>

#include <string>

#include "support/test_support.h"

namespace strata::dockerfile {
namespace {

const WordExpander kKeep = [](std::string_view w) -> base::Result<std::string> {
  return std::string(w);
};

Mount MustMount(std::string_view value) {
  auto m = ParseMount(value, &kKeep);
  EXPECT_TRUE(m.has_value()) << value << ": " << m.error().ToString();
  return m ? *m : Mount{};
}

TEST(RunMountTest, BindDefaults) {
  Mount m = MustMount("target=/src");
  EXPECT_EQ(m.type, MountType::kBind);
  EXPECT_EQ(m.target, "/src");
  EXPECT_TRUE(m.read_only);  // bind mounts are read-only unless rw
  EXPECT_EQ(m.cache_sharing, ShareMode::kUnset);
}

TEST(RunMountTest, BindOptions) {
  Mount m = MustMount("type=bind,from=build,source=/out,target=/in,rw");
  EXPECT_EQ(m.from, "build");
  EXPECT_EQ(m.source, "/out");
  EXPECT_EQ(m.target, "/in");
  EXPECT_FALSE(m.read_only);
  Mount aliases = MustMount("type=bind,src=a,dst=/b,readwrite=true");
  EXPECT_EQ(aliases.source, "a");
  EXPECT_EQ(aliases.target, "/b");
  EXPECT_FALSE(aliases.read_only);
  EXPECT_TRUE(MustMount("destination=/d,readwrite=false").read_only);
  EXPECT_TRUE(MustMount("target=/d,ro").read_only);
  EXPECT_FALSE(MustMount("target=/d,readonly=0").read_only);
  EXPECT_TRUE(MustMount("target=/d,ro=T").read_only);
}

TEST(RunMountTest, CacheOptions) {
  Mount m = MustMount(
      "type=cache,target=/root/.cache,id=go-build,sharing=locked,mode=0750,"
      "uid=1000,gid=1001,from=base,source=sub");
  EXPECT_EQ(m.type, MountType::kCache);
  EXPECT_EQ(m.cache_id, "go-build");
  EXPECT_EQ(m.cache_sharing, ShareMode::kLocked);
  EXPECT_EQ(m.mode, 0750u);
  EXPECT_EQ(m.uid, 1000u);
  EXPECT_EQ(m.gid, 1001u);
  EXPECT_EQ(m.from, "base");
  EXPECT_EQ(m.source, "sub");
  EXPECT_FALSE(m.read_only);  // cache mounts are writable by default
  EXPECT_EQ(MustMount("type=cache,target=/c,sharing=Shared").cache_sharing,
            ShareMode::kShared);
  EXPECT_EQ(MustMount("type=cache,target=/c,sharing=private").cache_sharing,
            ShareMode::kPrivate);
  EXPECT_TRUE(MustMount("type=cache,target=/c,readonly").read_only);
}

TEST(RunMountTest, TmpfsSizes) {
  Mount m = MustMount("type=tmpfs,target=/t,size=64m");
  EXPECT_EQ(m.type, MountType::kTmpfs);
  EXPECT_EQ(m.size_limit, 64 * 1024 * 1024);
  EXPECT_FALSE(m.read_only);
  EXPECT_EQ(MustMount("type=tmpfs,target=/t,size=1.5KiB").size_limit, 1536);
  EXPECT_EQ(MustMount("type=tmpfs,target=/t,size=100").size_limit, 100);
  EXPECT_EQ(MustMount("type=tmpfs,target=/t,size=2 gb").size_limit,
            int64_t{2} << 30);
  EXPECT_EQ(MustMount("type=tmpfs,target=/t,size=10b").size_limit, 10);
}

TEST(RunMountTest, SecretOptions) {
  Mount m = MustMount(
      "type=secret,id=token,target=/run/secrets/t,required,mode=0400,uid=0,"
      "gid=0,env=TOKEN");
  EXPECT_EQ(m.type, MountType::kSecret);
  EXPECT_EQ(m.cache_id, "token");
  EXPECT_TRUE(m.required);
  EXPECT_EQ(m.mode, 0400u);
  EXPECT_EQ(m.env, "TOKEN");
  EXPECT_TRUE(m.read_only);
  EXPECT_FALSE(MustMount("type=secret,id=a,required=false").required);
  EXPECT_EQ(MustMount("type=secret,id=a,env=").env, "");
  EXPECT_EQ(MustMount("type=secret,id=a").env, std::nullopt);
  EXPECT_EQ(MustMount("type=secret,source=a").source, "a");
}

TEST(RunMountTest, SshOptions) {
  Mount m = MustMount("type=ssh,id=default,target=/s,required=true,mode=600");
  EXPECT_EQ(m.type, MountType::kSsh);
  EXPECT_TRUE(m.required);
  EXPECT_EQ(m.mode, 0600u);
  EXPECT_TRUE(m.read_only);
  EXPECT_EQ(MustMount("type=ssh").type, MountType::kSsh);
}

TEST(RunMountTest, KeysAndTypesAreCaseInsensitive) {
  Mount m = MustMount("TYPE=Cache,Target=/x,ID=y");
  EXPECT_EQ(m.type, MountType::kCache);
  EXPECT_EQ(m.target, "/x");
  EXPECT_EQ(m.cache_id, "y");
}

TEST(RunMountTest, QuotedCsvFields) {
  Mount m = MustMount("\"target=/a,b\",type=bind,\"source=x\"\"y\"");
  EXPECT_EQ(m.target, "/a,b");
  EXPECT_EQ(m.source, "x\"y");
}

TEST(RunMountTest, ParseTimeOnlyReadsFrom) {
  auto m = ParseMount("type=nonsense,bogus,from=stage,size=zz", nullptr);
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(m->type, MountType::kBind);
  EXPECT_EQ(m->from, "stage");
  EXPECT_TRUE(m->read_only);
  // A trailing '$' is not a variable.
  EXPECT_EQ(ParseMount("from=a$", nullptr)->from, "a$");
  auto var = ParseMount("from=${X}", nullptr);
  ASSERT_FALSE(var.has_value());
  EXPECT_EQ(var.error().message(),
            "'from' doesn't support variable expansion, define alias stage "
            "instead");
}

TEST(RunMountTest, ValuesAreExpanded) {
  WordExpander upper = [](std::string_view w) -> base::Result<std::string> {
    if (w == "$T") return std::string("/target");
    if (w == "$TYPE") return std::string("tmpfs");
    return std::string(w);
  };
  auto m = ParseMount("type=$TYPE,target=$T", &upper);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->type, MountType::kTmpfs);
  EXPECT_EQ(m->target, "/target");
  WordExpander failing = [](std::string_view) -> base::Result<std::string> {
    return base::Error(base::Code::kParse, "boom");
  };
  auto err = ParseMount("target=/x", &failing);
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(err.error().message(), "boom");
}

struct MountErrorCase {
  const char* name;
  const char* value;
  const char* error;
};

const MountErrorCase kMountErrors[] = {
    {"unknown_type", "type=foo", "unsupported mount type \"foo\""},
    {"type_suggestion", "type=cach",
     "unsupported mount type \"cach\" (did you mean cache?)"},
    {"unknown_key", "xyz=bar", "unexpected key 'xyz' in 'xyz=bar'"},
    {"unknown_key_near_from", "foo=bar",
     "unexpected key 'foo' in 'foo=bar' (did you mean from?)"},
    {"key_suggestion", "targt=/x",
     "unexpected key 'targt' in 'targt=/x' (did you mean target?)"},
    {"key_lowercased", "Sorce=/x",
     "unexpected key 'sorce' in 'Sorce=/x' (did you mean source?)"},
    {"bare_key", "target=/x,bogus",
     "invalid field 'bogus' must be a key=value pair"},
    {"empty_field", "target=/x,", "invalid field '' must be a key=value pair"},
    {"required_on_bind", "target=/x,required",
     "unexpected key 'required' for mount type 'bind'"},
    {"required_before_type", "required,type=secret,id=x",
     "unexpected key 'required' for mount type 'bind'"},
    {"required_value_on_cache", "type=cache,required=true",
     "unexpected key 'required' for mount type 'cache'"},
    {"required_bad_bool", "type=ssh,required=yes",
     "invalid value for required: yes"},
    {"size_on_bind", "type=bind,size=1",
     "unexpected key 'size' for mount type 'bind'"},
    {"size_bad", "type=tmpfs,size=abc", "invalid value for size: abc"},
    {"size_bad_suffix", "type=tmpfs,size=1kk", "invalid value for size: 1kk"},
    {"size_negative", "type=tmpfs,size=-1", "invalid value for size: -1"},
    {"ro_bad", "target=/x,ro=maybe", "invalid value for ro: maybe"},
    {"readwrite_bad", "target=/x,readwrite=2",
     "invalid value for readwrite: 2"},
    {"sharing_bad", "type=cache,sharing=privat",
     "unsupported sharing value \"privat\" (did you mean private?)"},
    {"sharing_on_bind", "type=bind,sharing=shared",
     "invalid cache sharing set for bind mount"},
    {"mode_not_octal", "type=cache,mode=9", "invalid value 9 for mode"},
    {"uid_negative", "type=cache,uid=-1", "invalid value -1 for uid"},
    {"gid_too_big", "type=cache,gid=4294967296",
     "invalid value 4294967296 for gid"},
    {"mode_on_bind", "type=bind,mode=0755",
     "mode not allowed for \"bind\" type mounts"},
    {"uid_on_tmpfs", "type=tmpfs,uid=1",
     "uid not allowed for \"tmpfs\" type mounts"},
    {"gid_on_bind", "gid=1", "gid not allowed for \"bind\" type mounts"},
    {"secret_from", "type=secret,id=a,from=x",
     "secret mount should not have a from"},
    {"secret_sharing", "type=secret,id=a,sharing=shared",
     "secret mount should not define sharing"},
    {"secret_nothing", "type=secret",
     "invalid secret mount. one of source, target required"},
    {"secret_source_and_id", "type=secret,source=a,id=b",
     "both source and id can't be set"},
    {"csv_quote", "target=\"/x",
     "failed to parse csv mounts: parse error on line 1, column 8: bare \" in "
     "non-quoted field"},
    {"csv_unterminated", "\"target=/x",
     "failed to parse csv mounts: parse error on line 1, column 2: extraneous "
     "or missing \" in quoted field"},
    {"csv_after_quote", "\"a\"b",
     "failed to parse csv mounts: parse error on line 1, column 3: extraneous "
     "or missing \" in quoted field"},
    {"csv_empty", "", "failed to parse csv mounts: EOF"},
};

class MountErrorTest : public ::testing::TestWithParam<MountErrorCase> {};

TEST_P(MountErrorTest, Fails) {
  auto m = ParseMount(GetParam().value, &kKeep);
  ASSERT_FALSE(m.has_value()) << GetParam().value;
  EXPECT_EQ(m.error().message(), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MountErrorTest, ::testing::ValuesIn(kMountErrors),
    [](const ::testing::TestParamInfo<MountErrorCase>& info) {
      return strata::testing::SanitizeTestName(info.param.name);
    });

TEST(RunDeviceTest, Forms) {
  EXPECT_EQ(*ParseDevice("vendor.com/gpu=all"),
            (Device{"vendor.com/gpu=all", false}));
  EXPECT_EQ(*ParseDevice("name=gpu,required"), (Device{"gpu", true}));
  EXPECT_EQ(*ParseDevice("gpu,required=false"), (Device{"gpu", false}));
  EXPECT_EQ(*ParseDevice("required,gpu"), (Device{"gpu", true}));
}

TEST(RunDeviceTest, Errors) {
  EXPECT_EQ(ParseDevice("a,b").error().message(),
            "invalid field 'b' must be a key=value pair");
  EXPECT_EQ(ParseDevice("a,name=b").error().message(),
            "device name already set to a");
  EXPECT_EQ(ParseDevice("a,required=maybe").error().message(),
            "invalid value for required: maybe");
  EXPECT_EQ(ParseDevice("a,nme=b").error().message(),
            "unexpected key 'nme' in 'nme=b' (did you mean name?)");
  EXPECT_EQ(ParseDevice("").error().message(),
            "failed to parse csv devices: EOF");
}

}  // namespace
}  // namespace strata::dockerfile
