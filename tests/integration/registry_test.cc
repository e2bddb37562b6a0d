// strata against the real Debian docker-registry on loopback: pull, push,
// cross-repository mounts, lazily fetched base layers, Basic auth over TLS
// with a certs.d CA, Bearer tokens, config.json logins, and round trips
// with skopeo in both directions.
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "build_fixture.h"
#include "support/registry_server.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;

class RegistryTest : public BuildTest {
 protected:
  void SetUp() override {
    CommandResult base = RunCommand(
        {"bash", TestdataPath("../scripts/make-busybox-base.sh"),
         STRATA_BINARY, path("base"), "--root", path("base-root"), "-q"});
    ASSERT_EQ(base.exit_code, 0) << base.err;
    env_.push_back("DOCKER_CONFIG=" + path("docker-config"));
    env_.push_back("HOME=" + path("home"));
  }

  void StartRegistry(RegistryServer::Mode mode) {
    RegistryServer::Options options;
    options.mode = mode;
    base::Result<std::unique_ptr<RegistryServer>> r =
        RegistryServer::Start(options);
    ASSERT_TRUE(r) << r.error().message();
    registry_ = std::move(r).value();
  }

  /// `strata ARGS...` with the test's environment.
  CommandResult Strata(std::vector<std::string> args,
                       const std::string& stdin_data = "") {
    return RunStrata(args, stdin_data, dir_.path(), env_);
  }

  /// skopeo with a bounded time; TLS checks off for the plain registry.
  CommandResult Skopeo(std::vector<std::string> args) {
    std::vector<std::string> full = {"timeout", "60", "skopeo",
                                     "--insecure-policy"};
    full.insert(full.end(), args.begin(), args.end());
    return RunCommand(full);
  }

  /// Pushes the busybox base into the registry as `repo`:latest.
  void SeedBusybox(const std::string& repo) {
    CommandResult r = Skopeo(
        {"copy", "--dest-tls-verify=false",
         "oci:" + path("base/busybox-oci") + ":latest",
         "docker://" + registry_->host() + "/" + repo + ":latest"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  /// The manifest digest skopeo sees for `ref`.
  std::string SkopeoDigest(const std::string& ref,
                           std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"inspect", "--raw"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("docker://" + ref);
    args.insert(args.begin() + 1, "--tls-verify=false");
    CommandResult r = Skopeo(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return base::Digest::Of(r.out).ToString();
  }

  /// A plain registry holding busybox, and a Dockerfile on it that adds
  /// a RUN layer and a COPY of hello.txt. Returns the registry's host.
  std::string StartWithBusyboxApp() {
    StartRegistry(RegistryServer::kPlain);
    SeedBusybox("busybox");
    std::string reg = registry_->host();
    Write("Dockerfile",
          "FROM " + reg + "/busybox:latest\n"
          "RUN echo built > /built\n"
          "COPY hello.txt /hello.txt\n");
    return reg;
  }

  std::string ManifestDigestOf(const std::string& metadata_file) {
    nlohmann::json j = nlohmann::json::parse(*base::ReadFile(metadata_file));
    return j.value("containerimage.digest", "");
  }

  std::unique_ptr<RegistryServer> registry_;
};

// strata build --push, then skopeo reads the same manifest and copies the
// image out; skopeo pushes an image in and strata builds FROM it.
TEST_F(RegistryTest, PushAndPullRoundTripWithSkopeo) {
  std::string reg = StartWithBusyboxApp();
  Write("hello.txt", "hello\n");
  CommandResult r = MustBuild({"-t", reg + "/app:v1", "-t", reg + "/app:v2",
                               "--push", "--metadata-file",
                               path("meta.json")});
  std::string digest = ManifestDigestOf(path("meta.json"));
  ASSERT_FALSE(digest.empty());
  // The base, pinned to the digest it resolved to.
  nlohmann::json meta = nlohmann::json::parse(*base::ReadFile(path("meta.json")));
  ASSERT_EQ(meta["containerimage.buildinfo"]["sources"].size(), 1u) << meta;
  EXPECT_EQ(meta["containerimage.buildinfo"]["sources"][0]["ref"],
            reg + "/busybox:latest");
  EXPECT_EQ(meta["containerimage.buildinfo"]["sources"][0]["pin"],
            SkopeoDigest(reg + "/busybox:latest"));
  EXPECT_EQ(SkopeoDigest(reg + "/app:v1"), digest);
  EXPECT_EQ(SkopeoDigest(reg + "/app:v2"), digest);

  CommandResult copy = Skopeo({"copy", "--src-tls-verify=false",
                               "docker://" + reg + "/app:v1",
                               "oci:" + path("copied") + ":v1"});
  ASSERT_EQ(copy.exit_code, 0) << copy.err;
  LayoutImage img = ReadLayout(path("copied"));
  EXPECT_EQ(img.manifest_digest, digest);
  CommandResult unpack = RunCommand({"umoci", "unpack", "--image",
                                     path("copied") + ":v1",
                                     path("bundle")});
  ASSERT_EQ(unpack.exit_code, 0) << unpack.err;
  EXPECT_EQ(*base::ReadFile(path("bundle/rootfs/built")), "built\n");
  EXPECT_EQ(*base::ReadFile(path("bundle/rootfs/hello.txt")), "hello\n");

  // strata pull into a fresh store, then push under another name.
  CommandResult pull = Strata({"pull", "--root", path("root2"),
                               reg + "/app:v1"});
  ASSERT_EQ(pull.exit_code, 0) << pull.err;
  EXPECT_NE(pull.out.find(digest), std::string::npos) << pull.out;
  CommandResult push = Strata({"push", "--root", path("root2"),
                               reg + "/app:v1", reg + "/copy:v1"});
  ASSERT_EQ(push.exit_code, 0) << push.err;
  EXPECT_EQ(SkopeoDigest(reg + "/copy:v1"), digest);
  // Every layer was already in the registry: mounted, none sent.
  EXPECT_EQ(push.out.find("pushed "), std::string::npos) << push.out;
  EXPECT_NE(push.out.find("mounted from app"), std::string::npos) << push.out;
}

// A build stores its new layers as plain tars; a push compresses them,
// once per format, and the registry gets compressed layers that read back.
TEST_F(RegistryTest, PushCompressesBuiltLayersOncePerFormat) {
  std::string reg = StartWithBusyboxApp();
  Write("hello.txt", std::string(100000, 'h'));
  MustBuild({"-t", "app:v1", "--metadata-file", path("meta.json")});
  nlohmann::json meta =
      nlohmann::json::parse(*base::ReadFile(path("meta.json")));
  std::string local = meta["containerimage.digest"];
  auto stored = image::ParseManifest(
      *base::ReadFile(root() + "/blobs/sha256/" + local.substr(7)));
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->layers.size(), 3u);
  EXPECT_EQ(stored->layers[1].media_type, image::media::kOciLayer);
  EXPECT_EQ(stored->layers[2].media_type, image::media::kOciLayer);

  auto media_types = [&](const std::string& ref) {
    CommandResult r = Skopeo({"inspect", "--raw", "--tls-verify=false",
                              "docker://" + ref});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> out;
    nlohmann::json m = nlohmann::json::parse(r.out);
    EXPECT_TRUE(m["layers"].is_array()) << r.out;
    for (const auto& l : m["layers"]) {
      out.push_back(l["mediaType"]);
    }
    return out;
  };
  auto compressed_lines = [](const std::string& out) {
    size_t n = 0;
    for (size_t at = out.find("compressed "); at != std::string::npos;
         at = out.find("compressed ", at + 1)) {
      ++n;
    }
    return n;
  };

  CommandResult gz = Strata({"push", "--root", root(), "app:v1",
                             reg + "/app:gz"});
  ASSERT_EQ(gz.exit_code, 0) << gz.err;
  EXPECT_EQ(compressed_lines(gz.out), 2u) << gz.out;
  std::string gz_digest = SkopeoDigest(reg + "/app:gz");
  EXPECT_NE(gz_digest, local);
  std::vector<std::string> types = media_types(reg + "/app:gz");
  ASSERT_EQ(types.size(), 3u);
  EXPECT_EQ(types[0], stored->layers[0].media_type);  // the base, as it was
  EXPECT_EQ(types[1], image::media::kOciLayerGzip);
  EXPECT_EQ(types[2], image::media::kOciLayerGzip);

  // Again, under another name: nothing compressed, the same manifest.
  CommandResult again = Strata({"push", "--root", root(), "-q", "app:v1",
                                reg + "/app:again"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, gz_digest + "\n");
  EXPECT_EQ(SkopeoDigest(reg + "/app:again"), gz_digest);

  CommandResult zst = Strata({"push", "--root", root(), "--compression",
                              "zstd", "app:v1", reg + "/app:zstd"});
  ASSERT_EQ(zst.exit_code, 0) << zst.err;
  EXPECT_EQ(compressed_lines(zst.out), 2u) << zst.out;
  types = media_types(reg + "/app:zstd");
  ASSERT_EQ(types.size(), 3u);
  EXPECT_EQ(types[2], image::media::kOciLayerZstd);

  // Both read back: a fresh store builds on each and sees the files.
  for (const std::string tag : {"gz", "zstd"}) {
    Write("Dockerfile", "FROM " + reg + "/app:" + tag + "\n");
    std::string out = path("out-" + tag);
    MustBuild({"-o", "type=local,dest=" + out}, path("fresh-" + tag));
    EXPECT_EQ(*base::ReadFile(out + "/built"), "built\n") << tag;
    EXPECT_EQ(fs::file_size(out + "/hello.txt"), 100000u) << tag;
  }
}

// A build that only adds layers on top of a registry base never downloads
// the base's layers, and its push mounts them from the base's repository.
TEST_F(RegistryTest, BaseLayersAreFetchedOnlyWhenAStepReadsThem) {
  StartRegistry(RegistryServer::kPlain);
  SeedBusybox("busybox");
  std::string reg = registry_->host();
  LayoutImage base = ReadLayout(path("base/busybox-oci"));
  ASSERT_EQ(base.manifest.layers.size(), 1u);
  std::string base_layer =
      root() + "/blobs/sha256/" + base.manifest.layers[0].digest.hex();

  Write("Dockerfile", "FROM " + reg + "/busybox\n"
                      "LABEL stage=thin\n"
                      "COPY --link hello.txt /hello.txt\n");
  Write("hello.txt", "hello\n");
  MustBuild({"-t", reg + "/thin:v1", "--push"});
  EXPECT_FALSE(fs::exists(base_layer)) << "the base layer was downloaded";
  CommandResult copy = Skopeo({"copy", "--src-tls-verify=false",
                               "docker://" + reg + "/thin:v1",
                               "oci:" + path("thin") + ":v1"});
  ASSERT_EQ(copy.exit_code, 0) << copy.err;
  ASSERT_EQ(RunCommand({"umoci", "unpack", "--image", path("thin") + ":v1",
                        path("thin-bundle")})
                .exit_code,
            0);
  EXPECT_TRUE(fs::exists(path("thin-bundle/rootfs/bin/busybox")));
  EXPECT_TRUE(fs::exists(path("thin-bundle/rootfs/hello.txt")));

  // A RUN needs the base's files: now the layer comes, once.
  Write("Dockerfile", "FROM " + reg + "/busybox\nRUN test -x /bin/busybox\n");
  MustBuild({"-t", "thick:v1"});
  EXPECT_TRUE(fs::exists(base_layer));
}

// Basic auth over TLS: the CA comes from a certs.d dir, credentials from
// `strata login` (config.json, mode 0600) or --creds; a wrong CA or no
// credentials fail with one clear line, and no secret is ever printed.
TEST_F(RegistryTest, BasicAuthOverTlsWithCertsDirAndLogin) {
  StartRegistry(RegistryServer::kBasicTls);
  std::string reg = registry_->host();
  CommandResult seed = Skopeo(
      {"copy", "--dest-cert-dir", registry_->cert_dir(), "--dest-creds",
       std::string(RegistryServer::username()) + ":" +
           RegistryServer::password(),
       "oci:" + path("base/busybox-oci") + ":latest",
       "docker://" + reg + "/busybox:latest"});
  ASSERT_EQ(seed.exit_code, 0) << seed.err;
  std::string certs = path("certs.d");
  fs::create_directories(certs + "/" + reg);
  fs::copy_file(registry_->ca_cert_path(), certs + "/" + reg + "/ca.crt");
  Write("Dockerfile", "FROM " + reg + "/busybox\nRUN echo ok > /ok\n");

  // No credentials: refused, saying so.
  CommandResult anon = Build({"--cert-dir", certs, "-t", reg + "/app:v1"});
  EXPECT_EQ(anon.exit_code, 1);
  EXPECT_NE(anon.err.find("authentication required"), std::string::npos)
      << anon.err;

  // A wrong CA: TLS verification fails.
  std::string wrong = path("wrong.d");
  fs::create_directories(wrong + "/" + reg);
  {
    CommandResult gen = RunCommand(
        {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", wrong + "/key.pem", "-out", wrong + "/" + reg + "/ca.crt",
         "-subj", "/CN=wrong", "-days", "2"});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
  }
  CommandResult bad_ca = Build({"--cert-dir", wrong, "--creds",
                                std::string(RegistryServer::username()) +
                                    ":" + RegistryServer::password(),
                                "-t", reg + "/app:v1"});
  EXPECT_EQ(bad_ca.exit_code, 1);
  EXPECT_NE(bad_ca.err.find("certificate"), std::string::npos) << bad_ca.err;

  // strata login stores the credentials; the build pulls and pushes.
  CommandResult login = Strata({"login", "--username",
                                RegistryServer::username(),
                                "--password-stdin", reg},
                               std::string(RegistryServer::password()) + "\n");
  ASSERT_EQ(login.exit_code, 0) << login.err;
  struct stat st;
  ASSERT_EQ(::stat(path("docker-config/config.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  CommandResult built = Build({"--cert-dir", certs, "-t", reg + "/app:v1",
                               "--push", "--metadata-file",
                               path("meta.json")});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  EXPECT_EQ(SkopeoDigest(reg + "/app:v1",
                         {"--cert-dir", registry_->cert_dir(), "--creds",
                          std::string(RegistryServer::username()) + ":" +
                              RegistryServer::password()}),
            ManifestDigestOf(path("meta.json")));
  for (const CommandResult* out : {&anon, &bad_ca, &login, &built}) {
    EXPECT_EQ(out->err.find(RegistryServer::password()), std::string::npos);
    EXPECT_EQ(out->out.find(RegistryServer::password()), std::string::npos);
  }
  // The password is in no layer, config or record of the store.
  CommandResult grep = RunCommand({"grep", "-rl", RegistryServer::password(),
                                   root()});
  EXPECT_NE(grep.exit_code, 0) << grep.out;

  CommandResult logout = Strata({"logout", reg});
  ASSERT_EQ(logout.exit_code, 0) << logout.err;
  CommandResult again = Strata({"logout", reg});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("not logged in"), std::string::npos) << again.err;
}

// Bearer tokens from the registry's token server: fetched with the
// credentials, cached per scope (far fewer token requests than registry
// requests).
TEST_F(RegistryTest, BearerTokensAreFetchedAndCached) {
  StartRegistry(RegistryServer::kToken);
  std::string reg = registry_->host();
  std::string creds = std::string(RegistryServer::username()) + ":" +
                      RegistryServer::password();
  CommandResult seed = Skopeo({"copy", "--dest-tls-verify=false",
                               "--dest-creds", creds,
                               "oci:" + path("base/busybox-oci") + ":latest",
                               "docker://" + reg + "/busybox:latest"});
  ASSERT_EQ(seed.exit_code, 0) << seed.err;
  base::Result<int64_t> before = registry_->TokenRequestCount();
  ASSERT_TRUE(before);

  Write("Dockerfile", "FROM " + reg + "/busybox\nRUN echo ok > /ok\n");
  CommandResult built = Build({"--creds", creds, "-t", reg + "/app:v1",
                               "--push", "--metadata-file",
                               path("meta.json")});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  base::Result<int64_t> after = registry_->TokenRequestCount();
  ASSERT_TRUE(after);
  // Pull (busybox: pull), push (app: pull,push; with a mount from busybox).
  EXPECT_GE(*after - *before, 2);
  EXPECT_LE(*after - *before, 4);
  EXPECT_EQ(SkopeoDigest(reg + "/app:v1", {"--creds", creds}),
            ManifestDigestOf(path("meta.json")));

  // Wrong credentials: the token server says no, in one line.
  CommandResult denied = Build({"--creds", "strata:wrong", "--pull", "-t",
                                "x:1"});
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_NE(denied.err.find("token request denied"), std::string::npos)
      << denied.err;
  EXPECT_EQ(denied.err.find("wrong"), std::string::npos) << denied.err;
}

// A CI fleet's cache in the registry: a second runner (a fresh store) with
// --cache-from gets every step CACHED without running it or downloading a
// layer, and the same image; a changed file re-runs only the steps after
// it. The cache is an OCI manifest other tools read.
TEST_F(RegistryTest, RegistryCacheServesAFreshRunner) {
  StartRegistry(RegistryServer::kPlain);
  SeedBusybox("busybox");
  std::string reg = registry_->host();
  Write("Dockerfile", "FROM " + reg + "/busybox\n"
                      "WORKDIR /app\n"
                      "COPY req.txt .\n"
                      "RUN printf 'deps-%s\\n' installed && cp req.txt /deps\n"
                      "COPY . .\n"
                      "RUN printf 'app-%s\\n' built && cat main.py > /built\n");
  Write("req.txt", "dep==1\n");
  Write("main.py", "print(1)\n");
  std::string cache = "type=registry,ref=" + reg + "/app:buildcache";
  CommandResult first = MustBuild({"-t", reg + "/app:v1", "--push",
                                   "--cache-to", cache + ",mode=max",
                                   "--metadata-file", path("meta1.json")});
  CommandResult inspect = Skopeo({"inspect", "--raw", "--tls-verify=false",
                                  "docker://" + reg + "/app:buildcache"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find("application/vnd.strata.cache.v1"),
            std::string::npos) << inspect.out;

  // Another runner: a fresh store.
  CommandResult second = MustBuild(
      {"-t", reg + "/app:v1", "--push", "--cache-from", cache,
       "--metadata-file", path("meta2.json")},
      path("runner2"));
  EXPECT_EQ(Count(second.err, " CACHED\n"), 5) << second.err;
  EXPECT_EQ(second.err.find("deps-installed"), std::string::npos);
  EXPECT_EQ(ManifestDigestOf(path("meta2.json")),
            ManifestDigestOf(path("meta1.json")));
  LayoutImage base = ReadLayout(path("base/busybox-oci"));
  EXPECT_FALSE(fs::exists(path("runner2/blobs/sha256/") +
                          base.manifest.layers.at(0).digest.hex()))
      << "a layer was downloaded";
  EXPECT_EQ(second.err.find("pushed "), std::string::npos) << second.err;

  // A code edit on a third runner: the dependency steps stay cached.
  Write("main.py", "print(2)\n");
  CommandResult third = MustBuild({"--cache-from", cache}, path("runner3"));
  EXPECT_EQ(third.err.find("deps-installed"), std::string::npos)
      << third.err;
  EXPECT_NE(third.err.find("app-built"), std::string::npos) << third.err;
  EXPECT_EQ(Count(third.err, " CACHED\n"), 3) << third.err;

  // No cache there yet: a note, not a failure.
  CommandResult none = MustBuild(
      {"--cache-from", "type=registry,ref=" + reg + "/app:nothing"},
      path("runner4"));
  EXPECT_NE(none.err.find("no cache at"), std::string::npos) << none.err;
}

// type=local: the same cache in a directory (an OCI layout).
TEST_F(RegistryTest, LocalCacheDirectoryRoundTrip) {
  Write("Dockerfile", "FROM busybox\nRUN printf 'ran-%s\\n' once > /f && cat /f\n");
  std::vector<std::string> base = {
      "--build-context",
      "busybox=oci-layout://" + path("base/busybox-oci") + ":latest"};
  std::vector<std::string> to = base;
  to.insert(to.end(), {"--cache-to", "type=local,dest=" + path("cachedir")});
  CommandResult first = MustBuild(to);
  EXPECT_NE(first.err.find("ran-once"), std::string::npos);
  EXPECT_TRUE(fs::exists(path("cachedir/index.json")));
  std::vector<std::string> from = base;
  from.insert(from.end(),
              {"--cache-from", "type=local,src=" + path("cachedir")});
  CommandResult second = MustBuild(from, path("other-root"));
  EXPECT_EQ(second.err.find("ran-once"), std::string::npos) << second.err;
  EXPECT_EQ(Count(second.err, " CACHED\n"), 1) << second.err;
  CommandResult bad = Build({"--cache-to", "type=local"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("needs dest="), std::string::npos) << bad.err;
}

// A tag moved in the registry: the store's copy serves builds until
// --pull asks again. Docker v2 schema 2 manifests pull as OCI ones do.
TEST_F(RegistryTest, PullAsksAgainAndDockerManifestsWork) {
  StartRegistry(RegistryServer::kPlain);
  std::string reg = registry_->host();
  CommandResult v2 = Skopeo({"copy", "--dest-tls-verify=false", "--format",
                             "v2s2", "oci:" + path("base/busybox-oci") +
                                         ":latest",
                             "docker://" + reg + "/busybox:latest"});
  ASSERT_EQ(v2.exit_code, 0) << v2.err;
  Write("Dockerfile", "FROM " + reg + "/busybox\nRUN test ! -e /marker\n");
  MustBuild({});

  // The tag now names an image with /marker.
  Write("Dockerfile", "FROM busybox\nCOPY marker /marker\n");
  Write("marker", "m\n");
  MustBuild({"--build-context",
             "busybox=oci-layout://" + path("base/busybox-oci") + ":latest",
             "-t", reg + "/busybox:latest", "--push"},
            path("other-root"));
  Write("Dockerfile", "FROM " + reg + "/busybox\nRUN test -e /marker\n");
  CommandResult stale = Build({});
  EXPECT_EQ(stale.exit_code, 1) << "the stored base serves without --pull";
  CommandResult fresh = Build({"--pull"});
  EXPECT_EQ(fresh.exit_code, 0) << fresh.err;
}

// A multi-platform image in the registry: the index resolves to the
// platform asked for, in builds and in inspect.
TEST_F(RegistryTest, IndexResolvesToTheRequestedPlatform) {
  StartRegistry(RegistryServer::kPlain);
  std::string reg = registry_->host();
  Write("Dockerfile", "FROM scratch\nARG TARGETARCH\nCOPY $TARGETARCH.txt /arch\n");
  Write("arm64.txt", "arm");
  Write("amd64.txt", "amd");
  nlohmann::json manifests = nlohmann::json::array();
  for (std::string arch : {"arm64", "amd64"}) {
    MustBuild({"--platform", "linux/" + arch, "-t",
               reg + "/multi:" + arch, "--push", "--metadata-file",
               path("meta-" + arch + ".json")});
    nlohmann::json meta =
        nlohmann::json::parse(*base::ReadFile(path("meta-" + arch + ".json")));
    nlohmann::json d = meta["containerimage.descriptor"];
    d["platform"] = {{"architecture", arch}, {"os", "linux"}};
    manifests.push_back(d);
  }
  std::string index =
      nlohmann::json{{"schemaVersion", 2},
                     {"mediaType", "application/vnd.oci.image.index.v1+json"},
                     {"manifests", manifests}}
          .dump();
  dir_.WriteFile("index.json", index);
  // The index goes in with a plain HTTP PUT (python3's urllib).
  CommandResult put = RunCommand(
      {"timeout", "30", "python3", "-c",
       "import sys, urllib.request\n"
       "data = open(sys.argv[2], 'rb').read()\n"
       "req = urllib.request.Request(sys.argv[1], data=data, method='PUT',"
       " headers={'Content-Type': "
       "'application/vnd.oci.image.index.v1+json'})\n"
       "print(urllib.request.urlopen(req).status)\n",
       "http://" + reg + "/v2/multi/manifests/latest", path("index.json")});
  ASSERT_EQ(put.exit_code, 0) << put.err;

  Write("Dockerfile", "FROM " + reg + "/multi\n");
  for (std::string arch : {"arm64", "amd64"}) {
    MustBuild({"--platform", "linux/" + arch, "--output",
               "type=local,dest=" + path("fs-" + arch)},
              path("root-" + arch));
    EXPECT_EQ(*base::ReadFile(path("fs-" + arch + "/arch")),
              arch == "arm64" ? "arm" : "amd");
    CommandResult inspect = Strata({"inspect", "--root", path("empty-root"),
                                    "--platform", "linux/" + arch,
                                    reg + "/multi:latest"});
    ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
    nlohmann::json j = nlohmann::json::parse(inspect.out);
    EXPECT_EQ(j["MediaType"], "application/vnd.oci.image.index.v1+json");
    EXPECT_EQ(j["Config"]["architecture"], arch);
  }
  CommandResult none = Build({"--platform", "linux/s390x", "-q"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no image for platform linux/s390x"),
            std::string::npos)
      << none.err;
}

// --registry-mirror serves docker.io names; inspect reads registry, local
// and OCI-layout images alike; tag names a local image again.
TEST_F(RegistryTest, MirrorInspectAndTag) {
  StartRegistry(RegistryServer::kPlain);
  SeedBusybox("library/busybox");
  std::string reg = registry_->host();
  Write("Dockerfile", "FROM busybox\nRUN echo via-mirror > /m\n");
  MustBuild({"--registry-mirror", "http://" + reg, "-t", "mirrored:v1",
             "--output", "type=image", "--output",
             "type=local,dest=" + path("fs")});
  EXPECT_EQ(*base::ReadFile(path("fs/m")), "via-mirror\n");

  LayoutImage base = ReadLayout(path("base/busybox-oci"));
  std::string layer = base.manifest.layers.at(0).digest.ToString();
  for (const std::string& name :
       {reg + "/library/busybox:latest",
        "oci:" + path("base/busybox-oci") + ":latest",
        std::string("docker.io/library/busybox:latest")}) {
    CommandResult r = Strata({"inspect", "--root", root(), name});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["Digest"], base.manifest_digest) << name;
    ASSERT_EQ(j["Layers"].size(), 1u) << name;
    EXPECT_EQ(j["Layers"][0], layer) << name;
    EXPECT_EQ(j["Config"]["architecture"], "amd64") << name;
  }
  CommandResult tag = Strata({"tag", "--root", root(), "mirrored:v1",
                              reg + "/retagged:v9"});
  ASSERT_EQ(tag.exit_code, 0) << tag.err;
  CommandResult push = Strata({"push", "--root", root(), reg + "/retagged:v9"});
  ASSERT_EQ(push.exit_code, 0) << push.err;
  CommandResult missing = Strata({"inspect", "--root", root(),
                                  reg + "/nothing:here"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("manifest unknown"), std::string::npos)
      << missing.err;
}

// A base pulled from one registry and pushed to another that holds it
// under the same repository name is mounted there, not uploaded again; a
// registry without it gets the bytes.
TEST_F(RegistryTest, PushToAnotherRegistryMountsTheBaseByRepositoryName) {
  StartRegistry(RegistryServer::kPlain);
  SeedBusybox("busybox");
  std::string reg = registry_->host();
  base::Result<std::unique_ptr<RegistryServer>> second =
      RegistryServer::Start({});
  ASSERT_TRUE(second) << second.error().message();
  std::string other = (*second)->host();
  ASSERT_EQ(Skopeo({"copy", "--dest-tls-verify=false",
                    "oci:" + path("base/busybox-oci") + ":latest",
                    "docker://" + other + "/busybox:latest"})
                .exit_code,
            0);

  Write("Dockerfile", "FROM " + reg + "/busybox\nRUN echo hi > /hi\n");
  MustBuild({"-t", "app:v1"});
  LayoutImage base = ReadLayout(path("base/busybox-oci"));
  std::string base_id = base.manifest.layers.at(0).digest.hex().substr(0, 12);

  CommandResult push = Strata({"push", "--root", root(), "app:v1",
                               other + "/app:v1"});
  ASSERT_EQ(push.exit_code, 0) << push.err;
  EXPECT_NE(push.out.find(base_id + ": mounted from busybox"),
            std::string::npos)
      << push.out;
  EXPECT_EQ(Count(push.out, "pushed "), 2) << push.out;  // RUN layer, config

  // The first registry's own copy under a new name: mounted too.
  CommandResult again = Strata({"push", "--root", root(), "app:v1",
                                reg + "/app:v1"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find(base_id + ": mounted from busybox"),
            std::string::npos)
      << again.out;

  // A third registry without the base gets its bytes.
  base::Result<std::unique_ptr<RegistryServer>> empty =
      RegistryServer::Start({});
  ASSERT_TRUE(empty) << empty.error().message();
  CommandResult full = Strata({"push", "--root", root(), "app:v1",
                               (*empty)->host() + "/app:v1"});
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_NE(full.out.find("pushed " + base_id), std::string::npos) << full.out;
  EXPECT_EQ(SkopeoDigest((*empty)->host() + "/app:v1"),
            SkopeoDigest(other + "/app:v1"));
}

}  // namespace
}  // namespace strata::testing
