#include "copy_test_util.h"

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "../layer/layer_test_util.h"
#include "base/str.h"
#include "layer/apply.h"
#include "layer/compression.h"
#include "layer/writer.h"

namespace strata::build::testutil {

namespace fs = std::filesystem;

std::string HostOwner() { return base::StrCat(::geteuid(), ":", ::getegid()); }

CopyFixture::CopyFixture()
    : ctx_dir_(tmp_.path() + "/ctx"),
      stage_dir_(tmp_.path() + "/stage"),
      context_(CopySource::Context(ctx_dir_, {})) {
  ::umask(022);
  fs::create_directories(ctx_dir_);
  fs::create_directories(stage_dir_);
  ::chmod(ctx_dir_.c_str(), 0755);
  ::chmod(stage_dir_.c_str(), 0755);
  stage_view_ = std::make_unique<layer::LayeredView>(
      std::vector<std::string>{stage_dir_});
}

std::string CopyFixture::CtxPath(const std::string& rel) const {
  return ctx_dir_ + "/" + rel;
}

void CopyFixture::Ctx(const std::string& rel, const std::string& data,
                      mode_t mode) {
  layer::testutil::PutFile(CtxPath(rel), data, mode);
}

void CopyFixture::CtxDir(const std::string& rel, mode_t mode) {
  fs::create_directories(CtxPath(rel));
  ::chmod(CtxPath(rel).c_str(), mode);
}

void CopyFixture::CtxLink(const std::string& rel, const std::string& target) {
  fs::create_directories(fs::path(CtxPath(rel)).parent_path());
  ASSERT_EQ(::symlink(target.c_str(), CtxPath(rel).c_str()), 0) << rel;
}

namespace {

// Non-root users cannot chown to 0:0; their files keep their own ids.
void ChownForTest(const std::string& path, uid_t uid, gid_t gid) {
  if (::geteuid() != 0 && uid == 0 && gid == 0) return;
  ASSERT_EQ(::lchown(path.c_str(), uid, gid), 0) << path;
}

}  // namespace

void CopyFixture::Stage(const std::string& rel, const std::string& data,
                        mode_t mode, uid_t uid, gid_t gid) {
  std::string path = stage_dir_ + "/" + rel;
  layer::testutil::PutFile(path, data, mode);
  ChownForTest(path, uid, gid);
}

void CopyFixture::StageDir(const std::string& rel, mode_t mode, uid_t uid,
                           gid_t gid) {
  std::string path = stage_dir_ + "/" + rel;
  fs::create_directories(path);
  ::chmod(path.c_str(), mode);
  ChownForTest(path, uid, gid);
}

void CopyFixture::StageLink(const std::string& rel, const std::string& target) {
  std::string path = stage_dir_ + "/" + rel;
  fs::create_directories(fs::path(path).parent_path());
  ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0) << rel;
}

void CopyFixture::SetIgnore(std::vector<std::string> patterns) {
  context_ = CopySource::Context(ctx_dir_, std::move(patterns));
}

base::Result<CopyOperation> CopyFixture::PlanOp(
    const std::vector<std::string>& sources, const std::string& dest,
    CopyOptions options, const CopySource* from,
    const std::vector<dockerfile::SourceContent>& heredocs) {
  dockerfile::SourcesAndDest paths;
  paths.source_paths = sources;
  paths.dest_path = dest;
  paths.source_contents = heredocs;
  if (!options.source_date_epoch) options.source_date_epoch = kEpoch;
  if (options.temp_dir.empty()) options.temp_dir = tmp_.path();
  return CopyOperation::Plan(from ? *from : context_, paths, options, stage());
}

base::Result<StepResult> CopyFixture::Finish(CopyOperation& op) {
  StepResult result;
  STRATA_ASSIGN_OR_RETURN(result.content_digest, op.ContentDigest());
  base::StringSink sink;
  layer::WriterOptions writer_options;
  writer_options.compression.compression = layer::Compression::kNone;
  writer_options.source_date_epoch = kEpoch;
  STRATA_ASSIGN_OR_RETURN(auto writer,
                          layer::LayerWriter::Create(&sink, writer_options));
  STRATA_TRY(op.Write(*writer));
  result.entries = writer->entry_count();
  STRATA_TRY(writer->Finish());
  result.blob = sink.str();
  return result;
}

base::Result<StepResult> CopyFixture::Run(
    const std::vector<std::string>& sources, const std::string& dest,
    CopyOptions options, const CopySource* from,
    const std::vector<dockerfile::SourceContent>& heredocs) {
  STRATA_ASSIGN_OR_RETURN(
      CopyOperation op,
      PlanOp(sources, dest, std::move(options), from, heredocs));
  return Finish(op);
}

std::vector<std::string> CopyFixture::Entries(const std::string& blob) {
  std::vector<std::string> lines = layer::testutil::ListTar(blob);
  for (std::string& line : lines) {
    // "mtime.nsec" -> "mtime": the writer truncates to seconds anyway.
    std::vector<std::string> f = base::Split(line, '|');
    if (f.size() > 5) {
      f[5] = f[5].substr(0, f[5].find('.'));
      line = base::Join(f, "|");
    }
  }
  return lines;
}

std::string CopyFixture::Applied(const std::string& blob) {
  static int seq = 0;
  std::string root = base::StrCat(tmp_.path(), "/applied", ++seq);
  fs::create_directories(root);
  auto stats = layer::testutil::ApplyBlob(blob, root);
  if (!stats) {
    ADD_FAILURE() << stats.error().ToString();
    return "";
  }
  return layer::testutil::ListTree(root, /*with_mtime=*/false);
}

std::string CopyFixture::FileIn(const std::string& blob,
                                const std::string& name) {
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(),
                                                           archive_read_free);
  archive_read_support_format_tar(a.get());
  archive_read_open_memory(a.get(), blob.data(), blob.size());
  archive_entry* e = nullptr;
  while (archive_read_next_header(a.get(), &e) == ARCHIVE_OK) {
    if (archive_entry_pathname(e) != name ||
        archive_entry_filetype(e) != AE_IFREG ||
        archive_entry_hardlink(e) != nullptr) {
      continue;
    }
    std::string data(static_cast<size_t>(archive_entry_size(e)), '\0');
    la_ssize_t n = archive_read_data(a.get(), data.data(), data.size());
    if (n < 0 || static_cast<size_t>(n) != data.size()) return "<short>";
    return data;
  }
  return "<none>";
}

std::string CopyFixture::AppliedFile(const std::string& blob,
                                     const std::string& rel) {
  static int seq = 0;
  std::string root = base::StrCat(tmp_.path(), "/appliedf", ++seq);
  fs::create_directories(root);
  auto stats = layer::testutil::ApplyBlob(blob, root);
  if (!stats) {
    ADD_FAILURE() << stats.error().ToString();
    return "";
  }
  return layer::testutil::GetFile(root + "/" + rel);
}

// ------------------------------------------------------------ HTTP server

TestHttpServer::TestHttpServer(std::map<std::string, Response> routes)
    : routes_(std::move(routes)) {
  ::setenv("no_proxy", "127.0.0.1", /*overwrite=*/1);
  ::setenv("NO_PROXY", "127.0.0.1", /*overwrite=*/1);
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(
      ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(::listen(listen_fd_, 16), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::jthread([this](std::stop_token stop) { Serve(stop); });
}

TestHttpServer::~TestHttpServer() {
  thread_.request_stop();
  thread_.join();
  ::close(listen_fd_);
}

std::string TestHttpServer::Url(const std::string& path) const {
  return base::StrCat("http://127.0.0.1:", port_, path);
}

void TestHttpServer::Serve(std::stop_token stop) {
  while (!stop.stop_requested()) {
    pollfd p = {listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Handle(fd);
    ::close(fd);
  }
}

void TestHttpServer::Handle(int fd) {
  ++requests_;
  std::string request;
  char buf[4096];
  // Bounded: at most 2 s for the request head.
  for (int i = 0; i < 40 && request.find("\r\n\r\n") == std::string::npos;
       ++i) {
    pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    request.append(buf, static_cast<size_t>(n));
  }
  std::istringstream line(request.substr(0, request.find("\r\n")));
  std::string method, path;
  line >> method >> path;
  Response response;
  auto it = routes_.find(path);
  if (it == routes_.end()) {
    response.status = 404;
    response.body = "not found";
  } else {
    response = it->second;
  }
  std::string out = base::StrCat("HTTP/1.1 ", response.status, " X\r\n",
                                 "Content-Length: ", response.body.size(),
                                 "\r\nConnection: close\r\n");
  for (const std::string& h : response.headers) out += h + "\r\n";
  out += "\r\n" + response.body;
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::write(fd, out.data() + done, out.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
}

std::string Compress(const std::string& data, const std::string& how) {
  if (how == "bzip2" || how == "xz") {
    strata::testing::ScopedTempDir dir;
    std::string in = dir.path() + "/in";
    layer::testutil::PutFile(in, data);
    return layer::testutil::RunCmd(base::StrCat(how, " -c ", in));
  }
  base::StringSink out;
  layer::CompressionOptions options;
  options.compression =
      how == "zstd" ? layer::Compression::kZstd : layer::Compression::kGzip;
  auto sink = layer::NewCompressingSink(&out, options);
  EXPECT_TRUE(sink.has_value());
  EXPECT_TRUE((*sink)->Write(data).has_value());
  EXPECT_TRUE((*sink)->Close().has_value());
  return out.str();
}

}  // namespace strata::build::testutil
