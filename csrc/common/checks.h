// Argument checks shared by every op, CPU and CUDA alike. Pure C++ (no pybind11) so nvcc can
// include it. Violations throw std::invalid_argument, which pybind11 turns into ValueError.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#if defined(__CUDACC__)
#define VF_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define VF_HOST_DEVICE inline
#endif

// Hot row kernels get an AVX2 clone picked at load time (GCC/Clang on x86-64 with glibc ifunc),
// so one portable wheel still uses wide vectors where the CPU has them.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__CUDACC__) && !defined(__clang__) && defined(__linux__)
#define VF_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VF_CLONES
#endif

namespace vidfast {

[[noreturn]] inline void fail(const std::string& op, const std::string& what) {
  throw std::invalid_argument(op + ": " + what);
}

inline void check_size(const char* op, const char* name, int64_t value, int64_t lo = 1) {
  if (value < lo) fail(op, std::string(name) + " must be >= " + std::to_string(lo) + ", got " + std::to_string(value));
}

inline void check_channels(const char* op, int64_t c, bool allow_one = true) {
  if (c == 3 || (allow_one && c == 1)) return;
  fail(op, std::string("expected ") + (allow_one ? "1 or 3" : "3") + " channels, got " + std::to_string(c));
}

inline void check_ptr(const char* op, const char* name, uintptr_t p) {
  if (p == 0) fail(op, std::string(name) + " is a null device pointer");
}

}  // namespace vidfast
