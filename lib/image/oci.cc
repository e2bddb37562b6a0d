#include "image/oci.h"

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

namespace strata::image {

using base::Code;
using base::MakeError;
using Json = nlohmann::ordered_json;

namespace {

// ---- writing ----

Json PlatformJson(const Platform& p) {
  Json j = Json::object();
  j["architecture"] = p.architecture;
  j["os"] = p.os;
  if (!p.variant.empty()) j["variant"] = p.variant;
  return j;
}

Json StringMap(const std::map<std::string, std::string>& m) {
  Json j = Json::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

Json DescriptorJson(const Descriptor& d) {
  Json j = Json::object();
  j["mediaType"] = d.media_type;
  j["digest"] = d.digest.ToString();
  j["size"] = d.size;
  if (!d.annotations.empty()) j["annotations"] = StringMap(d.annotations);
  if (d.platform) j["platform"] = PlatformJson(*d.platform);
  return j;
}

Json EmptySet(const std::vector<std::string>& keys) {
  Json j = Json::object();
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  for (const std::string& k : sorted) j[k] = Json::object();
  return j;
}

Json ContainerConfigJson(const ContainerConfig& c) {
  Json j = Json::object();
  if (!c.user.empty()) j["User"] = c.user;
  if (!c.exposed_ports.empty()) j["ExposedPorts"] = EmptySet(c.exposed_ports);
  if (!c.env.empty()) j["Env"] = c.env;
  if (c.entrypoint) j["Entrypoint"] = *c.entrypoint;
  if (c.cmd) j["Cmd"] = *c.cmd;
  if (!c.volumes.empty()) j["Volumes"] = EmptySet(c.volumes);
  if (!c.working_dir.empty()) j["WorkingDir"] = c.working_dir;
  if (!c.labels.empty()) j["Labels"] = StringMap(c.labels);
  if (!c.stop_signal.empty()) j["StopSignal"] = c.stop_signal;
  if (c.args_escaped) j["ArgsEscaped"] = true;
  if (c.healthcheck) {
    const HealthConfig& h = *c.healthcheck;
    Json hj = Json::object();
    hj["Test"] = h.test;
    if (h.interval_ns) hj["Interval"] = h.interval_ns;
    if (h.timeout_ns) hj["Timeout"] = h.timeout_ns;
    if (h.start_period_ns) hj["StartPeriod"] = h.start_period_ns;
    if (h.start_interval_ns) hj["StartInterval"] = h.start_interval_ns;
    if (h.retries) hj["Retries"] = h.retries;
    j["Healthcheck"] = hj;
  }
  if (!c.on_build.empty()) j["OnBuild"] = c.on_build;
  if (!c.shell.empty()) j["Shell"] = c.shell;
  return j;
}

// ---- reading ----

// Typed field access that reports instead of throwing.
class Reader {
 public:
  Reader(const Json& j, std::string what) : j_(j), what_(std::move(what)) {}

  base::Status String(const char* key, std::string* out) const {
    const Json* v = Find(key);
    if (v == nullptr) return base::OkStatus();
    if (!v->is_string()) return TypeError(key, "a string");
    *out = v->get<std::string>();
    return base::OkStatus();
  }
  base::Status Int(const char* key, int64_t* out) const {
    const Json* v = Find(key);
    if (v == nullptr) return base::OkStatus();
    if (!v->is_number_integer()) return TypeError(key, "an integer");
    *out = v->get<int64_t>();
    return base::OkStatus();
  }
  base::Status Bool(const char* key, bool* out) const {
    const Json* v = Find(key);
    if (v == nullptr || v->is_null()) return base::OkStatus();
    if (!v->is_boolean()) return TypeError(key, "a boolean");
    *out = v->get<bool>();
    return base::OkStatus();
  }
  base::Status Strings(const char* key, std::vector<std::string>* out,
                       bool* present = nullptr) const {
    const Json* v = Find(key);
    if (present) *present = v != nullptr && !v->is_null();
    if (v == nullptr || v->is_null()) return base::OkStatus();
    if (!v->is_array()) return TypeError(key, "an array of strings");
    for (const Json& e : *v) {
      if (!e.is_string()) return TypeError(key, "an array of strings");
      out->push_back(e.get<std::string>());
    }
    return base::OkStatus();
  }
  base::Status Map(const char* key,
                   std::map<std::string, std::string>* out) const {
    const Json* v = Find(key);
    if (v == nullptr || v->is_null()) return base::OkStatus();
    if (!v->is_object()) return TypeError(key, "an object of strings");
    for (const auto& [k, e] : v->items()) {
      if (!e.is_string()) return TypeError(key, "an object of strings");
      (*out)[k] = e.get<std::string>();
    }
    return base::OkStatus();
  }
  base::Status Keys(const char* key, std::vector<std::string>* out) const {
    const Json* v = Find(key);
    if (v == nullptr || v->is_null()) return base::OkStatus();
    if (!v->is_object()) return TypeError(key, "an object");
    for (const auto& [k, e] : v->items()) out->push_back(k);
    std::sort(out->begin(), out->end());
    return base::OkStatus();
  }
  const Json* Find(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  base::Error TypeError(const char* key, const char* want) const {
    return MakeError(Code::kParse, what_, ": field \"", key, "\" is not ",
                     want);
  }

 private:
  const Json& j_;
  std::string what_;
};

base::Result<Json> ParseObject(std::string_view text, const char* what) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return MakeError(Code::kParse, what, ": not a JSON object");
  }
  return j;
}

base::Result<Platform> ParsePlatformJson(const Json& j) {
  if (!j.is_object()) {
    return MakeError(Code::kParse, "platform: not a JSON object");
  }
  Reader r(j, "platform");
  Platform p;
  STRATA_TRY(r.String("os", &p.os));
  STRATA_TRY(r.String("architecture", &p.architecture));
  STRATA_TRY(r.String("variant", &p.variant));
  return p;
}

base::Result<Descriptor> ParseDescriptor(const Json& j) {
  if (!j.is_object()) {
    return MakeError(Code::kParse, "descriptor: not a JSON object");
  }
  Reader r(j, "descriptor");
  Descriptor d;
  std::string digest;
  STRATA_TRY(r.String("mediaType", &d.media_type));
  STRATA_TRY(r.String("digest", &digest));
  STRATA_ASSIGN_OR_RETURN(d.digest, base::Digest::Parse(digest));
  STRATA_TRY(r.Int("size", &d.size));
  if (d.size < 0) return MakeError(Code::kParse, "descriptor: negative size");
  STRATA_TRY(r.Map("annotations", &d.annotations));
  if (const Json* p = r.Find("platform"); p && !p->is_null()) {
    STRATA_ASSIGN_OR_RETURN(Platform platform, ParsePlatformJson(*p));
    d.platform = std::move(platform);
  }
  return d;
}

base::Result<std::vector<Descriptor>> ParseDescriptors(const Json* j,
                                                       const char* what) {
  std::vector<Descriptor> out;
  if (j == nullptr || j->is_null()) return out;
  if (!j->is_array()) {
    return MakeError(Code::kParse, what, " is not an array");
  }
  for (const Json& e : *j) {
    STRATA_ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor(e));
    out.push_back(std::move(d));
  }
  return out;
}

base::Result<ContainerConfig> ParseContainerConfig(const Json& j) {
  ContainerConfig c;
  if (j.is_null()) return c;
  if (!j.is_object()) return MakeError(Code::kParse, "config: not an object");
  Reader r(j, "config");
  STRATA_TRY(r.String("User", &c.user));
  STRATA_TRY(r.Keys("ExposedPorts", &c.exposed_ports));
  STRATA_TRY(r.Strings("Env", &c.env));
  bool present = false;
  std::vector<std::string> list;
  STRATA_TRY(r.Strings("Entrypoint", &list, &present));
  if (present) c.entrypoint = list;
  list.clear();
  STRATA_TRY(r.Strings("Cmd", &list, &present));
  if (present) c.cmd = list;
  STRATA_TRY(r.Keys("Volumes", &c.volumes));
  STRATA_TRY(r.String("WorkingDir", &c.working_dir));
  STRATA_TRY(r.Map("Labels", &c.labels));
  STRATA_TRY(r.String("StopSignal", &c.stop_signal));
  STRATA_TRY(r.Bool("ArgsEscaped", &c.args_escaped));
  if (const Json* h = r.Find("Healthcheck"); h && !h->is_null()) {
    if (!h->is_object()) {
      return MakeError(Code::kParse, "config: Healthcheck is not an object");
    }
    Reader hr(*h, "Healthcheck");
    HealthConfig hc;
    int64_t retries = 0;
    STRATA_TRY(hr.Strings("Test", &hc.test));
    STRATA_TRY(hr.Int("Interval", &hc.interval_ns));
    STRATA_TRY(hr.Int("Timeout", &hc.timeout_ns));
    STRATA_TRY(hr.Int("StartPeriod", &hc.start_period_ns));
    STRATA_TRY(hr.Int("StartInterval", &hc.start_interval_ns));
    STRATA_TRY(hr.Int("Retries", &retries));
    hc.retries = static_cast<int>(retries);
    c.healthcheck = std::move(hc);
  }
  STRATA_TRY(r.Strings("OnBuild", &c.on_build));
  STRATA_TRY(r.Strings("Shell", &c.shell));
  return c;
}

}  // namespace

std::string ToJson(const Manifest& m) {
  Json j = Json::object();
  j["schemaVersion"] = 2;
  j["mediaType"] = m.media_type;
  j["config"] = DescriptorJson(m.config);
  Json layers = Json::array();
  for (const Descriptor& d : m.layers) layers.push_back(DescriptorJson(d));
  j["layers"] = layers;
  if (!m.annotations.empty()) j["annotations"] = StringMap(m.annotations);
  return j.dump();
}

std::string ToJson(const Index& i) {
  Json j = Json::object();
  j["schemaVersion"] = 2;
  j["mediaType"] = i.media_type;
  Json manifests = Json::array();
  for (const Descriptor& d : i.manifests)
    manifests.push_back(DescriptorJson(d));
  j["manifests"] = manifests;
  if (!i.annotations.empty()) j["annotations"] = StringMap(i.annotations);
  return j.dump();
}

std::string ToJson(const ImageConfig& c) {
  Json j = Json::object();
  if (!c.created.empty()) j["created"] = c.created;
  if (!c.author.empty()) j["author"] = c.author;
  j["architecture"] = c.platform.architecture;
  j["os"] = c.platform.os;
  if (!c.os_version.empty()) j["os.version"] = c.os_version;
  if (!c.platform.variant.empty()) j["variant"] = c.platform.variant;
  j["config"] = ContainerConfigJson(c.config);
  Json rootfs = Json::object();
  rootfs["type"] = "layers";
  Json ids = Json::array();
  for (const base::Digest& d : c.diff_ids) ids.push_back(d.ToString());
  rootfs["diff_ids"] = ids;
  j["rootfs"] = rootfs;
  Json history = Json::array();
  for (const History& h : c.history) {
    Json hj = Json::object();
    if (!h.created.empty()) hj["created"] = h.created;
    if (!h.created_by.empty()) hj["created_by"] = h.created_by;
    if (!h.author.empty()) hj["author"] = h.author;
    if (!h.comment.empty()) hj["comment"] = h.comment;
    if (h.empty_layer) hj["empty_layer"] = true;
    history.push_back(hj);
  }
  if (!c.history.empty()) j["history"] = history;
  return j.dump();
}

std::string SniffMediaType(std::string_view json) {
  Json j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return "";
  auto it = j.find("mediaType");
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

base::Result<Manifest> ParseManifest(std::string_view json) {
  STRATA_ASSIGN_OR_RETURN(Json j, ParseObject(json, "manifest"));
  Reader r(j, "manifest");
  Manifest m;
  m.media_type.clear();
  STRATA_TRY(r.String("mediaType", &m.media_type));
  if (m.media_type.empty()) m.media_type = media::kOciManifest;
  const Json* config = r.Find("config");
  if (config == nullptr) return MakeError(Code::kParse, "manifest: no config");
  STRATA_ASSIGN_OR_RETURN(m.config, ParseDescriptor(*config));
  STRATA_ASSIGN_OR_RETURN(
      m.layers, ParseDescriptors(r.Find("layers"), "manifest layers"));
  STRATA_TRY(r.Map("annotations", &m.annotations));
  return m;
}

base::Result<Index> ParseIndex(std::string_view json) {
  STRATA_ASSIGN_OR_RETURN(Json j, ParseObject(json, "index"));
  Reader r(j, "index");
  Index i;
  i.media_type.clear();
  STRATA_TRY(r.String("mediaType", &i.media_type));
  if (i.media_type.empty()) i.media_type = media::kOciIndex;
  STRATA_ASSIGN_OR_RETURN(i.manifests,
                          ParseDescriptors(r.Find("manifests"), "manifests"));
  STRATA_TRY(r.Map("annotations", &i.annotations));
  return i;
}

base::Result<ImageConfig> ParseImageConfig(std::string_view json) {
  STRATA_ASSIGN_OR_RETURN(Json j, ParseObject(json, "image config"));
  Reader r(j, "image config");
  ImageConfig c;
  STRATA_TRY(r.String("created", &c.created));
  STRATA_TRY(r.String("author", &c.author));
  STRATA_TRY(r.String("architecture", &c.platform.architecture));
  STRATA_TRY(r.String("os", &c.platform.os));
  STRATA_TRY(r.String("variant", &c.platform.variant));
  STRATA_TRY(r.String("os.version", &c.os_version));
  if (const Json* cfg = r.Find("config")) {
    STRATA_ASSIGN_OR_RETURN(c.config, ParseContainerConfig(*cfg));
  }
  if (const Json* rootfs = r.Find("rootfs"); rootfs && rootfs->is_object()) {
    std::vector<std::string> ids;
    STRATA_TRY(Reader(*rootfs, "rootfs").Strings("diff_ids", &ids));
    for (const std::string& id : ids) {
      STRATA_ASSIGN_OR_RETURN(base::Digest d, base::Digest::Parse(id));
      c.diff_ids.push_back(d);
    }
  }
  if (const Json* hist = r.Find("history"); hist && !hist->is_null()) {
    if (!hist->is_array()) {
      return MakeError(Code::kParse, "image config: history is not an array");
    }
    for (const Json& e : *hist) {
      if (!e.is_object()) {
        return MakeError(Code::kParse, "image config: bad history entry");
      }
      Reader hr(e, "history");
      History h;
      STRATA_TRY(hr.String("created", &h.created));
      STRATA_TRY(hr.String("created_by", &h.created_by));
      STRATA_TRY(hr.String("author", &h.author));
      STRATA_TRY(hr.String("comment", &h.comment));
      STRATA_TRY(hr.Bool("empty_layer", &h.empty_layer));
      c.history.push_back(std::move(h));
    }
  }
  return c;
}

std::string FormatRfc3339(int64_t unix_seconds, int64_t nanos) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (nanos > 0) {
    // Go's RFC3339Nano: fractional digits without trailing zeros.
    char frac[32];
    std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(nanos));
    std::string f = frac;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + "Z";
}

}  // namespace strata::image
