// How many CPUs the calling thread may run on. Internal.
#pragma once

#include <sched.h>

namespace batpak::util {

// The number of CPUs in the calling thread's affinity mask, at least 1. Thread-safe.
inline int usable_cpu_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  const int n = CPU_COUNT(&set);
  return n > 0 ? n : 1;
}

}  // namespace batpak::util
