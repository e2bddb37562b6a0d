#include "build/run_mounts.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>

#include "base/str.h"
#include "cache/cache.h"
#include "layer/apply.h"

namespace strata::build {

using base::Code;
using base::MakeError;
using base::Result;
using base::Status;
using dockerfile::Mount;
using dockerfile::MountType;

struct RunMounts::Planned {
  Mount mount;
  std::string target;                  // absolute
  std::optional<CopyOperation> copy;   // bind from the context
  std::vector<Layer> layers;           // bind or cache from a stage/image
  std::string cache_base;              // cache from=: digest of its base
  std::string secret;                  // secret value (never logged)
  bool skip = false;                   // a missing optional secret
};

namespace {

std::string Absolute(const std::string& path, const std::string& workdir) {
  if (!path.empty() && path[0] == '/') return path;
  std::string base = workdir.empty() ? "/" : workdir;
  if (base.back() != '/') base += '/';
  return base + path;
}

// The value of secret `id` as buildx finds it: src= file, env= variable,
// else a variable named id, else a file named id.
Result<std::optional<std::string>> ReadSecret(
    const std::vector<SecretSpec>& secrets, const std::string& id) {
  for (const SecretSpec& s : secrets) {
    if (s.id != id) continue;
    if (!s.file.empty()) {
      STRATA_ASSIGN_OR_RETURN(std::string data, base::ReadFile(s.file));
      return std::optional<std::string>(std::move(data));
    }
    std::string var = s.env.empty() ? s.id : s.env;
    if (const char* v = std::getenv(var.c_str())) {
      return std::optional<std::string>(v);
    }
    if (s.env.empty()) {
      Result<std::string> file = base::ReadFile(s.id);
      if (file) return std::optional<std::string>(*file);
    }
    return MakeError(Code::kNotFound, "secret ", id, ": no file or "
                     "environment variable holds it");
  }
  return std::optional<std::string>();
}

Status WriteSecretFile(const std::string& path, const std::string& data,
                       const Mount& m) {
  base::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL |
                                             O_CLOEXEC, 0400));
  if (!fd.valid()) return MakeError(Code::kIo, "create ", path, ": ",
                            std::strerror(errno));
  if (::write(fd.get(), data.data(), data.size()) !=
      static_cast<ssize_t>(data.size())) {
    return MakeError(Code::kIo, "write ", path, ": ", std::strerror(errno));
  }
  ::fchmod(fd.get(), static_cast<mode_t>(m.mode.value_or(0400)));
  if (::fchown(fd.get(), static_cast<uid_t>(m.uid.value_or(0)),
               static_cast<gid_t>(m.gid.value_or(0))) != 0 &&
      ::geteuid() == 0) {
    return MakeError(Code::kIo, "chown ", path, ": ", std::strerror(errno));
  }
  return base::OkStatus();
}

// Writes what `op` copies into a layer at `tar` and unpacks it into
// `tree` (created): the COPY engine's selection, made real on disk.
Status WriteOut(CopyOperation& op, const std::string& tar,
                const std::string& tree) {
  std::error_code ec;
  std::filesystem::create_directories(tree, ec);
  if (ec) return MakeError(Code::kIo, tree, ": ", ec.message());
  {
    base::UniqueFd fd(
        ::open(tar.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.valid()) return MakeError(Code::kIo, "create ", tar);
    base::FdSink sink(fd.get(), tar);
    layer::WriterOptions wo;
    wo.compression.compression = layer::Compression::kNone;
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<layer::LayerWriter> w,
                            layer::LayerWriter::Create(&sink, wo));
    STRATA_TRY(op.Write(*w));
    STRATA_TRY(w->Finish());
  }
  STRATA_ASSIGN_OR_RETURN(base::FdSource src, base::FdSource::Open(tar));
  STRATA_TRY(layer::ApplyLayer(src, tree));
  ::unlink(tar.c_str());
  return base::OkStatus();
}

}  // namespace

RunMounts::RunMounts(const StepContext& ctx, const StepInputs& in,
                     const std::vector<SecretSpec>& secrets)
    : ctx_(ctx), in_(in), secrets_(secrets) {}

RunMounts::~RunMounts() = default;

Result<std::string> RunMounts::Plan(const std::vector<Mount>& mounts,
                                    const std::string& workdir) {
  std::string key;
  int ssh_count = 0;
  for (const Mount& m : mounts) {
    Planned p;
    p.mount = m;
    switch (m.type) {
      case MountType::kSsh: {
        std::string id = m.cache_id.empty() ? "default" : m.cache_id;
        p.target = m.target.empty()
                       ? base::StrCat("/run/buildkit/ssh_agent.", ssh_count++)
                       : Absolute(m.target, workdir);
        for (const SshSpec& s : in_.ssh) {
          if (s.id == id) p.secret = s.socket;  // the socket, not a key
        }
        if (p.secret.empty()) {
          if (m.required) {
            return MakeError(Code::kNotFound, "no SSH agent ", id,
                             " for RUN --mount=type=ssh (pass --ssh ", id,
                             "=SOCKET)");
          }
          p.skip = true;
        }
        p.mount.cache_id = id;
        // Which agent, never its socket path: keys differ by machine.
        key += base::StrCat("ssh ", id, " ", p.target, ";");
        break;
      }
      case MountType::kSecret: {
        std::string id = m.cache_id;
        if (id.empty() && !m.target.empty()) {
          id = m.target.substr(m.target.rfind('/') + 1);
        }
        if (id.empty()) {
          return MakeError(Code::kInvalidArgument,
                           "secret mount needs an id or a target");
        }
        p.target = m.target.empty() ? "/run/secrets/" + id
                                    : Absolute(m.target, workdir);
        STRATA_ASSIGN_OR_RETURN(std::optional<std::string> value,
                                ReadSecret(secrets_, id));
        if (!value) {
          if (m.required) {
            return MakeError(Code::kNotFound, "secret ", id,
                             ": not found (pass it with --secret id=", id,
                             ",src=FILE)");
          }
          p.skip = true;
        } else {
          p.secret = std::move(*value);
        }
        // The id, never the value: a changed secret does not re-run.
        key += base::StrCat("secret ", id, " ", p.target, " ",
                            m.env.value_or("-"), ";");
        p.mount.cache_id = id;
        break;
      }
      case MountType::kTmpfs:
        p.target = Absolute(m.target, workdir);
        key += base::StrCat("tmpfs ", p.target, " ", m.size_limit, ";");
        break;
      case MountType::kCache:
        p.target = Absolute(m.target, workdir);
        if (!m.from.empty()) {
          // As BuildKit: a cache with a base is another cache than one
          // without (or with another base), and the base is in the key.
          STRATA_ASSIGN_OR_RETURN(p.layers, in_.source_layers(m.from));
          cache::KeyBuilder kb;
          for (const Layer& l : p.layers) kb.Add("layer", l.diff_id);
          kb.Add("source", m.source.empty() ? "/" : m.source);
          p.cache_base = kb.Finish().ToString();
        }
        key += base::StrCat("cache ", p.target, " ",
                            m.cache_id.empty() ? p.target : m.cache_id, " ",
                            m.read_only, " ", p.cache_base, ";");
        break;
      case MountType::kBind: {
        p.target = Absolute(m.target, workdir);
        std::string source = m.source.empty() ? "/" : m.source;
        if (m.from.empty()) {
          if (!in_.context) {
            return MakeError(Code::kInvalidArgument,
                             "no build context to bind (the context was "
                             "'-')");
          }
          dockerfile::SourcesAndDest sd;
          sd.source_paths = {source};
          sd.dest_path = "/bound";
          CopyOptions options;
          options.link = true;  // planned on an empty tree
          options.source_date_epoch = in_.source_date_epoch;
          options.temp_dir = ctx_.store.root() + "/tmp";
          layer::LayeredView empty(std::vector<std::string>{});
          STRATA_ASSIGN_OR_RETURN(
              CopyOperation op,
              CopyOperation::Plan(*in_.context, sd, options, empty));
          STRATA_ASSIGN_OR_RETURN(base::Digest content, op.ContentDigest());
          p.copy.emplace(std::move(op));
          key += base::StrCat("bind context ", source, " ", p.target, " ",
                              m.read_only, " ", content.ToString(), ";");
        } else {
          STRATA_ASSIGN_OR_RETURN(p.layers, in_.source_layers(m.from));
          cache::KeyBuilder kb;
          for (const Layer& l : p.layers) kb.Add("layer", l.diff_id);
          key += base::StrCat("bind ", m.from, " ", source, " ", p.target,
                              " ", m.read_only, " ",
                              kb.Finish().ToString(), ";");
        }
        break;
      }
    }
    planned_.push_back(std::move(p));
  }
  return key;
}

Status RunMounts::SeedCache(const Planned& p, const std::string& scratch,
                            const std::string& fresh) {
  const dockerfile::Mount& m = p.mount;
  STRATA_ASSIGN_OR_RETURN(layer::LayeredView view, ViewOf(ctx_, p.layers));
  CopySource source = CopySource::View(&view, "stage " + m.from);
  dockerfile::SourcesAndDest sd;
  sd.source_paths = {m.source.empty() ? "/" : m.source};
  sd.dest_path = "/seed/";
  CopyOptions options;
  options.link = true;  // planned on an empty tree
  options.temp_dir = ctx_.store.root() + "/tmp";
  layer::LayeredView empty(std::vector<std::string>{});
  STRATA_ASSIGN_OR_RETURN(CopyOperation op,
                          CopyOperation::Plan(source, sd, options, empty));
  std::string tree = scratch + "/seed-tree";
  STRATA_TRY(WriteOut(op, scratch + "/seed.tar", tree));
  if (::rename((tree + "/seed").c_str(), fresh.c_str()) != 0) {
    return MakeError(Code::kIo, "seed cache mount from ", m.from, ": ",
                     std::strerror(errno));
  }
  return base::OkStatus();
}

Status RunMounts::Prepare(const std::string& scratch,
                          std::vector<sandbox::MountSpec>* out,
                          std::vector<std::string>* env) {
  namespace fs = std::filesystem;
  int n = 0;
  for (Planned& p : planned_) {
    std::string dir = base::StrCat(scratch, "/mount-", n++);
    const Mount& m = p.mount;
    sandbox::MountSpec spec;
    spec.target = p.target;
    spec.read_only = m.read_only;
    switch (m.type) {
      case MountType::kSsh: {
        if (p.skip) continue;
        spec.kind = sandbox::MountSpec::Kind::kBind;
        spec.source = p.secret;
        spec.read_only = false;  // a socket: clients write to it
        // As BuildKit: the first agent mount is the default agent.
        bool has_sock = false;
        for (const std::string& e : *env) {
          has_sock |= e.rfind("SSH_AUTH_SOCK=", 0) == 0;
        }
        if (!has_sock) env->push_back("SSH_AUTH_SOCK=" + p.target);
        break;
      }
      case MountType::kSecret: {
        if (p.skip) continue;
        if (m.env && !m.env->empty()) {
          env->push_back(*m.env + "=" + p.secret);
          if (m.target.empty()) continue;  // env only
        }
        fs::create_directories(dir);
        std::string file = dir + "/secret";
        STRATA_TRY(WriteSecretFile(file, p.secret, m));
        spec.kind = sandbox::MountSpec::Kind::kBind;
        spec.source = file;
        spec.read_only = true;
        break;
      }
      case MountType::kTmpfs:
        spec.kind = sandbox::MountSpec::Kind::kTmpfs;
        spec.size = m.size_limit;
        break;
      case MountType::kCache: {
        std::string id = m.cache_id.empty() ? p.target : m.cache_id;
        STRATA_ASSIGN_OR_RETURN(std::string area,
                                ctx_.store.Area("cache-mounts"));
        std::string shared =
            area + "/" +
            base::Digest::Of(p.cache_base.empty() ? id
                                                  : id + "\n" + p.cache_base)
                .hex();
        std::string path = shared;
        if (m.cache_sharing == dockerfile::ShareMode::kLocked ||
            m.cache_sharing == dockerfile::ShareMode::kPrivate) {
          base::UniqueFd lock(::open((shared + ".lock").c_str(),
                                     O_RDWR | O_CREAT | O_CLOEXEC, 0600));
          if (!lock.valid()) {
            return MakeError(Code::kIo, "lock cache mount ", id, ": ",
                             std::strerror(errno));
          }
          bool wait = m.cache_sharing == dockerfile::ShareMode::kLocked;
          if (::flock(lock.get(), LOCK_EX | (wait ? 0 : LOCK_NB)) == 0) {
            locks_.push_back(std::move(lock));
          } else if (wait) {
            return MakeError(Code::kIo, "lock cache mount ", id, ": ",
                             std::strerror(errno));
          } else {
            path = dir;  // private: another build has it; start empty
          }
        }
        std::error_code ec;
        if (!fs::exists(path, ec)) {
          // Made aside and renamed: a concurrent build sees it whole.
          std::string fresh = ctx_.store.NewTempPath();
          if (p.cache_base.empty()) {
            fs::create_directories(fresh);
          } else {
            STRATA_TRY(SeedCache(p, dir, fresh));
          }
          ::chmod(fresh.c_str(), static_cast<mode_t>(m.mode.value_or(0755)));
          if (::chown(fresh.c_str(), static_cast<uid_t>(m.uid.value_or(0)),
                      static_cast<gid_t>(m.gid.value_or(0))) != 0 &&
              ::geteuid() == 0) {
            return MakeError(Code::kIo, "chown cache mount ", id, ": ",
                             std::strerror(errno));
          }
          if (::rename(fresh.c_str(), path.c_str()) != 0) {
            fs::remove_all(fresh, ec);  // another build made it first
          }
        }
        spec.kind = sandbox::MountSpec::Kind::kBind;
        spec.source = path;
        break;
      }
      case MountType::kBind: {
        fs::create_directories(dir + "/upper");
        fs::create_directories(dir + "/work");
        spec.kind = sandbox::MountSpec::Kind::kOverlay;
        spec.upper_dir = dir + "/upper";
        spec.work_dir = dir + "/work";
        if (p.copy) {
          // The selected context files, copied out through a layer.
          std::string tree = dir + "/tree";
          STRATA_TRY(WriteOut(*p.copy, dir + "/bound.tar", tree));
          spec.lower_dirs = {tree};
          spec.subpath = "bound";
        } else {
          STRATA_ASSIGN_OR_RETURN(std::vector<std::string> dirs,
                                  ctx_.layers.UnpackedAll(p.layers));
          if (dirs.empty()) {
            fs::create_directories(dir + "/empty");
            dirs.push_back(dir + "/empty");
          }
          spec.lower_dirs.assign(dirs.rbegin(), dirs.rend());
          spec.subpath = m.source.empty() ? "" : m.source;
        }
        break;
      }
    }
    out->push_back(std::move(spec));
  }
  return base::OkStatus();
}

}  // namespace strata::build
