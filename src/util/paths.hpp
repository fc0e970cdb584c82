// Path arithmetic on the slash-separated names Fs takes. Internal.
#pragma once

#include <string>

namespace batpak::util {

// `path` without trailing slashes ("/" stays): one directory, one name.
inline std::string without_trailing_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// The directory that holds `path` ("." for a bare name, "/" for a top-level one).
// REQUIRES: no trailing slash.
inline std::string parent_dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace batpak::util
