// Busy-wait helpers for the few places where sleeping costs more than spinning. Internal.
#pragma once

#include <sched.h>

namespace batpak::util {

// Tells the CPU this thread is spinning (x86 `pause`, Arm `yield`), which saves power and
// lets a sibling hardware thread run. Thread-safe.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield" ::: "memory");
#endif
}

// The number of CPUs this thread may run on (its affinity mask), at least 1. Thread-safe.
inline int usable_cpu_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  const int n = CPU_COUNT(&set);
  return n > 0 ? n : 1;
}

}  // namespace batpak::util
