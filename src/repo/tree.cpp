#include "repo/tree.h"
#include "repo/json_int.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <new>
#include <utility>

#include "util/error.h"

namespace arca {

using nlohmann::json;

const char* node_type_name(NodeType t) {
  switch (t) {
    case NodeType::File:
      return "file";
    case NodeType::Dir:
      return "dir";
    case NodeType::Symlink:
      return "symlink";
    case NodeType::Fifo:
      return "fifo";
    case NodeType::Socket:
      return "socket";
    case NodeType::CharDev:
      return "chardev";
    case NodeType::BlockDev:
      return "blockdev";
  }
  return "?";
}

bool is_safe_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

Error tree_too_deep(const std::string& what, const std::string& path) {
  // Cut at character boundaries: the message may be printed as JSON.
  auto boundary = [&](size_t i) {
    while (i > 0 && i < path.size() && (static_cast<unsigned char>(path[i]) & 0xC0) == 0x80) i--;
    return i;
  };
  std::string shown =
      path.size() <= 120 ? path : path.substr(0, boundary(60)) + "…" + path.substr(boundary(path.size() - 40));
  return Error(ErrorKind::Corrupt, what + ": directories nested deeper than " + std::to_string(kMaxTreeDepth) +
                                       " levels at '" + shown + "' (damaged or crafted; nothing below is read)");
}

// JSON strings must be UTF-8; file names, link targets and xattr names are arbitrary bytes.
// Fields that are not valid UTF-8 are stored as "<field>_b64" instead.
// Strict RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
static bool valid_utf8(const std::string& s) {
  size_t i = 0, n = s.size();
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  while (i < n) {
    unsigned char c = byte(i);
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c < 0x80)
      len = 1;
    else if (c >= 0xC2 && c <= 0xDF)
      len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + len > n) return false;
    if (len > 1 && (byte(i + 1) < lo || byte(i + 1) > hi)) return false;
    for (size_t k = 2; k < len; k++)
      if ((byte(i + k) >> 6) != 2) return false;
    i += len;
  }
  return true;
}

static void put_text(json& j, const char* field, const std::string& value) {
  if (valid_utf8(value))
    j[field] = value;
  else
    j[std::string(field) + "_b64"] = to_base64(as_view(value));
}

static std::string get_text(const json& j, const char* field, bool required) {
  std::string b64 = std::string(field) + "_b64";
  if (j.contains(b64)) return as_string(from_base64(j[b64].get<std::string>()));
  if (required) return j.at(field).get<std::string>();
  return j.value(field, "");
}

// A JSON number as an integer of type T; a number the field cannot hold (1e300 as a time, -1 as
// a size, 2^40 as a uid) is Corrupt rather than a silent truncation or an undefined conversion.
template <typename T>
static T int_field(const json& j, const char* field, const std::string& what) {
  const json& v = j.at(field);
  if (auto n = json_integer<T>(v)) return *n;
  throw Error(ErrorKind::Corrupt, what + ": '" + field + "' is " + v.dump() + ", not an integer the field can hold");
}

Bytes encode_tree(const Tree& tree) {
  json nodes = json::array();
  for (const auto& n : tree.nodes) {
    json j = {{"type", node_type_name(n.type)}, {"mode", n.mode},         {"uid", n.uid},     {"gid", n.gid},
              {"mtime_ns", n.mtime_ns},         {"ctime_ns", n.ctime_ns}, {"inode", n.inode}, {"device", n.device}};
    put_text(j, "name", n.name);
    if (!n.user.empty()) put_text(j, "user", n.user);
    if (!n.group.empty()) put_text(j, "group", n.group);
    if (n.links != 1) j["links"] = n.links;
    if (n.type == NodeType::File) {
      j["size"] = n.size;
      json c = json::array();
      for (const auto& id : n.content) c.push_back(id.hex());
      j["content"] = std::move(c);
    }
    if (n.subtree) j["subtree"] = n.subtree->hex();
    if (n.type == NodeType::Symlink) put_text(j, "link_target", n.link_target);
    if (n.type == NodeType::CharDev || n.type == NodeType::BlockDev) j["rdev"] = n.rdev;
    if (!n.xattrs.empty()) {
      json x = json::array();
      for (const auto& [k, v] : n.xattrs) {
        json e = {{"value", to_base64(v)}};
        put_text(e, "name", k);
        x.push_back(std::move(e));
      }
      j["xattrs"] = std::move(x);
    }
    nodes.push_back(std::move(j));
  }
  std::string s = json{{"nodes", std::move(nodes)}}.dump();
  return Bytes(s.begin(), s.end());
}

Tree decode_tree(ByteView data, const std::string& what) {
  Tree t;
  try {
    json j = json::parse(data.begin(), data.end());
    for (const auto& jn : j.at("nodes")) {
      Node n;
      n.name = get_text(jn, "name", true);
      if (!is_safe_name(n.name)) throw Error(ErrorKind::Corrupt, what + ": unsafe entry name '" + n.name + "'");
      std::string type = jn.at("type");
      if (type == "file")
        n.type = NodeType::File;
      else if (type == "dir")
        n.type = NodeType::Dir;
      else if (type == "symlink")
        n.type = NodeType::Symlink;
      else if (type == "fifo")
        n.type = NodeType::Fifo;
      else if (type == "socket")
        n.type = NodeType::Socket;
      else if (type == "chardev")
        n.type = NodeType::CharDev;
      else if (type == "blockdev")
        n.type = NodeType::BlockDev;
      else
        throw Error(ErrorKind::Corrupt, what + ": unknown node type '" + type + "'");
      n.mode = int_field<uint32_t>(jn, "mode", what);
      n.uid = int_field<uint32_t>(jn, "uid", what);
      n.gid = int_field<uint32_t>(jn, "gid", what);
      n.user = get_text(jn, "user", false);
      n.group = get_text(jn, "group", false);
      n.mtime_ns = int_field<int64_t>(jn, "mtime_ns", what);
      n.ctime_ns = int_field<int64_t>(jn, "ctime_ns", what);
      n.inode = int_field<uint64_t>(jn, "inode", what);
      n.device = int_field<uint64_t>(jn, "device", what);
      n.links = jn.contains("links") ? int_field<uint32_t>(jn, "links", what) : 1u;
      if (n.type == NodeType::File) {
        n.size = int_field<uint64_t>(jn, "size", what);
        for (const auto& c : jn.at("content")) n.content.push_back(Id::from_hex(c.get<std::string>()));
      }
      if (jn.contains("subtree")) n.subtree = Id::from_hex(jn["subtree"].get<std::string>());
      if (n.type == NodeType::Dir && !n.subtree) throw Error(ErrorKind::Corrupt, what + ": directory without subtree");
      if (n.type == NodeType::Symlink) n.link_target = get_text(jn, "link_target", true);
      if (n.type == NodeType::CharDev || n.type == NodeType::BlockDev) n.rdev = int_field<uint64_t>(jn, "rdev", what);
      if (jn.contains("xattrs"))
        for (const auto& x : jn["xattrs"])
          n.xattrs.emplace_back(get_text(x, "name", true), from_base64(x.at("value").get<std::string>()));
      if (!t.nodes.empty() && !(t.nodes.back().name < n.name))
        throw Error(ErrorKind::Corrupt, what + ": entries not sorted or duplicated");
      t.nodes.push_back(std::move(n));
    }
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Corrupt, what + " is malformed: " + e.what());
  } catch (const std::bad_alloc&) {  // docs/security.md, "Declared sizes and counts"
    throw Error(ErrorKind::Corrupt, what + ": declares more than can be allocated (damaged or crafted)");
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Usage) throw Error(ErrorKind::Corrupt, what + ": " + e.what());
    throw;
  }
  return t;
}

}  // namespace arca
