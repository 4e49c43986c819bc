// numpy-array helpers for the CPU entry points: dtype/rank/contiguity checks with messages that say
// what was passed and what is expected, plus the OpenMP gate used by every CPU kernel.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <array>
#include <string>

#include "common/checks.h"

namespace vidfast {
namespace py = pybind11;

// Below this many output bytes a parallel region costs more than it saves.
constexpr int64_t kParallelMinWork = 1 << 15;

template <typename T>
inline const char* dtype_name() { return std::is_same<T, uint8_t>::value ? "uint8" : "float32"; }

// dtype equality as numpy defines it. Not identity: an array that went through pickle (another
// process, Ray's object store) carries an equal dtype that is a different object.
inline bool same_dtype(const py::dtype& a, const py::dtype& b) {
  if (a.is(b)) return true;
  int eq = PyObject_RichCompareBool(a.ptr(), b.ptr(), Py_EQ);
  if (eq < 0) throw py::error_already_set();
  return eq == 1;
}

// Checks a C-contiguous array of element type T and rank `rank`; returns its shape.
template <typename T, size_t R>
std::array<int64_t, R> check_array(const py::array& a, const char* op, const char* name) {
  if (!same_dtype(a.dtype(), py::dtype::of<T>()))
    fail(op, std::string(name) + " must be " + dtype_name<T>() + ", got " + std::string(py::str(a.dtype())));
  if (a.ndim() != static_cast<py::ssize_t>(R))
    fail(op, std::string(name) + " must have " + std::to_string(R) + " dimensions, got " + std::to_string(a.ndim()));
  if (!(a.flags() & py::array::c_style))
    fail(op, std::string(name) + " must be C-contiguous (use numpy.ascontiguousarray)");
  std::array<int64_t, R> shape{};
  for (size_t i = 0; i < R; ++i) shape[i] = a.shape(i);
  return shape;
}

template <typename T>
py::array_t<T> empty_array(std::initializer_list<py::ssize_t> shape) {
  return py::array_t<T>(std::vector<py::ssize_t>(shape));
}

}  // namespace vidfast
