// check_ops.cu: standalone checker and benchmark of the CUDA kernel library (llm.c dev/cuda habit).
//
//   build/cuda/check_ops            all correctness cases, then the benchmarks and a table
//   build/cuda/check_ops --no-bench correctness only
//   build/cuda/check_ops --bench    benchmarks only
//   build/cuda/check_ops --bench-gemv  int4 GEMV versions only (VILA_Q4_GEMV=1..N, see
//                                   kernels/matmul_q4_gemv.cu): GB/s, % of copy and µs per version
//                                   and shape, plain launches and a CUDA graph of 20, then the
//                                   fastest version per shape (< 30 s)
//   build/cuda/check_ops --selftest host-only checks of the checker's own helpers (no GPU needed)
//   build/cuda/check_ops --quick    the small and ragged cases only, no benchmarks (for
//                                   compute-sanitizer build/cuda/check_ops --quick)
//
// Every op gets fresh random inputs (fixed seeds) at real model shapes (SigLIP 1152/4304 at 729
// tokens, Llama-3B 2560/6912, 8B 4096/14336, decode m = 1 and prefill m = 300) plus ragged
// sizes, runs through the C interface of cuda/include/vila_cuda.h, and is compared with a plain
// CPU reference written here in C++ from src/ref/*.ts (float64 sums, the same f32 roundings
// where the reference makes them; int4 dequantized bit-exactly as spec/awq.md §2.4). Outputs
// carry guard bytes on both sides (a stray write fails the case) and start as NaN (an output
// never written fails the case). A case passes when no NaN appears where the reference has
// none and NMSE = Σ(got − ref)² / Σ ref² is within its tolerance. Exit code 1 on any failure.

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../include/vila_cuda.h"

// Test-only symbols of the kernel library (kernels/matmul_q4_gemv.cu; not part of vila_cuda.h).
extern "C" int vila_q4_gemv_set_version(int v);  // v = 0 reads; returns the version in force
extern "C" int vila_q4_gemv_versions(void);

// ---- helpers ---------------------------------------------------------------------------------

static int g_fail = 0, g_pass = 0;
/** --quick: skip the model-sized cases (for compute-sanitizer runs, which are ~100x slower). */
static bool g_quick = false;
static bool skip(double work) { return g_quick && work > 4e7; }

#define VCHECK(call)                                                                                   \
  do {                                                                                                 \
    vila_status st_ = (call);                                                                          \
    if (st_ != VILA_OK) {                                                                              \
      fprintf(stderr, "FATAL %s:%d: %s -> %d (%s)\n", __FILE__, __LINE__, #call, (int)st_, vila_last_error()); \
      exit(2);                                                                                         \
    }                                                                                                  \
  } while (0)

static void parallel_for(int n, const std::function<void(int)> &fn) {
  int nt = (int)std::thread::hardware_concurrency();
  if (nt < 1) nt = 1;
  if (nt > 32) nt = 32;
  if (nt > n) nt = n;
  if (nt <= 1) {
    for (int i = 0; i < n; i++) fn(i);
    return;
  }
  std::vector<std::thread> th;
  for (int t = 0; t < nt; t++)
    th.emplace_back([&, t] {
      for (int i = t; i < n; i += nt) fn(i);
    });
  for (auto &x : th) x.join();
}

// Round a double once to a binary float with `mant` fraction bits (src/quant/q4.ts roundToFloat).
static double round_float(double x, int mant, int emin, double maxv) {
  if (x == 0 || !std::isfinite(x)) return x;
  const double a = std::fabs(x);
  int e;
  std::frexp(a, &e);
  e -= 1;  // a in [2^e, 2^(e+1))
  const double ulp = std::ldexp(1.0, std::max(e, emin) - mant);
  const double r = std::nearbyint(a / ulp) * ulp;  // ties to even (default rounding mode)
  const double v = r > maxv ? INFINITY : r;
  return x < 0 ? -v : v;
}
static double round_f16(double x) { return round_float(x, 10, -14, 65504.0); }
static double round_bf16(double x) { return round_float(x, 7, -126, (2 - std::ldexp(1.0, -7)) * std::ldexp(1.0, 127)); }
static double round_to(double x, vila_dtype dt) {
  return dt == VILA_F16 ? round_f16(x) : dt == VILA_BF16 ? round_bf16(x) : (double)(float)x;
}

static float f16_to_f(uint16_t h) {
  const int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
  double v;
  if (e == 0) v = std::ldexp((double)m, -24);
  else if (e == 31) v = m ? NAN : INFINITY;
  else v = std::ldexp(1024.0 + m, e - 25);
  return (float)(s ? -v : v);
}
/** Bits of an f16 from a double already rounded to f16 (round_f16). */
static uint16_t f16_bits(double v) {
  uint16_t s = std::signbit(v) ? 0x8000 : 0;
  const double a = std::fabs(v);
  if (std::isnan(v)) return 0x7e00;
  if (std::isinf(a)) return s | 0x7c00;
  if (a == 0) return s;
  if (a < std::ldexp(1.0, -14)) return s | (uint16_t)std::lrint(a / std::ldexp(1.0, -24));
  int e;
  std::frexp(a, &e);
  e -= 1;
  const int m = (int)std::lrint((a / std::ldexp(1.0, e) - 1.0) * 1024.0);
  return s | (uint16_t)((e + 15) << 10) | (uint16_t)m;
}
static float bf16_to_f(uint16_t b) {
  uint32_t u = (uint32_t)b << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}
static uint16_t bf16_bits(double v) {  // v already rounded to bf16
  const float f = (float)v;
  uint32_t u;
  memcpy(&u, &f, 4);
  return (uint16_t)(u >> 16);
}

/** A host tensor stored in a dtype: raw bytes plus the exact values as float. */
struct HostW {
  vila_dtype dt = VILA_F32;
  std::vector<uint8_t> bytes;
  std::vector<float> val;
  size_t count() const { return val.size(); }
};
static HostW make_w(size_t n, vila_dtype dt, std::mt19937 &rng, float lo, float hi) {
  HostW w;
  w.dt = dt;
  w.val.resize(n);
  w.bytes.resize(n * (dt == VILA_F32 ? 4 : 2));
  std::uniform_real_distribution<float> U(lo, hi);
  for (size_t i = 0; i < n; i++) {
    const double r = round_to(U(rng), dt);
    w.val[i] = (float)r;
    if (dt == VILA_F32) memcpy(&w.bytes[4 * i], &w.val[i], 4);
    else {
      const uint16_t b = dt == VILA_F16 ? f16_bits(r) : bf16_bits(r);
      memcpy(&w.bytes[2 * i], &b, 2);
    }
  }
  return w;
}
static std::vector<float> rand_f(size_t n, std::mt19937 &rng, float lo = -1.f, float hi = 1.f) {
  std::vector<float> v(n);
  std::uniform_real_distribution<float> U(lo, hi);
  for (auto &x : v) x = U(rng);
  return v;
}

/** Device buffer with guard bytes on both sides. */
struct Dev {
  static constexpr size_t G = 256;
  uint8_t *base = nullptr;
  size_t bytes = 0;
  void *p() const { return base + G; }
  float *f() const { return reinterpret_cast<float *>(base + G); }
};
static Dev dev_alloc(size_t bytes) {
  Dev d;
  d.bytes = bytes;
  void *p;
  VCHECK(vila_malloc(&p, bytes + 2 * Dev::G));
  d.base = static_cast<uint8_t *>(p);
  std::vector<uint8_t> fill(bytes + 2 * Dev::G, 0xFF);  // NaN everywhere (f32 0xFFFFFFFF)
  for (size_t i = 0; i < Dev::G; i++) fill[i] = fill[bytes + Dev::G + i] = 0xA5;
  VCHECK(vila_upload(d.base, fill.data(), fill.size()));
  return d;
}
static Dev dev_from(const void *src, size_t bytes) {
  Dev d = dev_alloc(bytes);
  VCHECK(vila_upload(d.p(), src, bytes));
  return d;
}
template <class T>
static Dev dev_vec(const std::vector<T> &v) {
  return dev_from(v.data(), v.size() * sizeof(T));
}
static void dev_free(Dev &d) {
  if (d.base) VCHECK(vila_free(d.base));
  d.base = nullptr;
}
static bool guards_ok(const Dev &d) {
  std::vector<uint8_t> g(Dev::G);
  VCHECK(vila_download(g.data(), d.base, Dev::G));
  for (auto b : g)
    if (b != 0xA5) return false;
  VCHECK(vila_download(g.data(), d.base + Dev::G + d.bytes, Dev::G));
  for (auto b : g)
    if (b != 0xA5) return false;
  return true;
}
static std::vector<float> download(const Dev &d, size_t n) {
  std::vector<float> v(n);
  VCHECK(vila_download(v.data(), d.p(), n * 4));
  return v;
}

/** Compare got with ref on the listed indices (all when idx is empty). */
static bool report(const std::string &name, const Dev &out, size_t n, const std::vector<double> &ref, const std::vector<size_t> &idx,
                   double tol) {
  VCHECK(vila_sync());
  const std::vector<float> got = download(out, n);
  const bool guards = guards_ok(out);
  double num = 0, den = 0, maxabs = 0;
  size_t nan_bad = 0, checked = 0;
  std::vector<size_t> bad;
  auto visit = [&](size_t i) {
    const double r = ref[i], g = got[i];
    checked++;
    if (std::isnan(g) != std::isnan(r) || (std::isinf(r) && g != r)) {
      nan_bad++;
      if (bad.size() < 4) bad.push_back(i);
      return;
    }
    if (std::isnan(r) || std::isinf(r)) return;
    const double d = g - r;
    num += d * d;
    den += r * r;
    maxabs = std::max(maxabs, std::fabs(d));
    if (std::fabs(d) > 1e-2 * (std::fabs(r) + 1e-3) && bad.size() < 4) bad.push_back(i);
  };
  if (idx.empty())
    for (size_t i = 0; i < n; i++) visit(i);
  else
    for (size_t i : idx) visit(i);
  const double nmse = den > 0 ? num / den : num;
  const bool ok = guards && nan_bad == 0 && nmse <= tol;
  printf("%-4s %-58s nmse %9.2e (tol %7.1e) maxabs %9.2e  n=%zu%s%s\n", ok ? "PASS" : "FAIL", name.c_str(), nmse, tol, maxabs, checked,
         guards ? "" : "  GUARD BYTES OVERWRITTEN", nan_bad ? "  NaN/inf mismatch" : "");
  if (!ok)
    for (size_t i : bad) printf("       index %zu ref %.9g got %.9g\n", i, ref[i], (double)got[i]);
  (ok ? g_pass : g_fail)++;
  return ok;
}

/** Rows of an (m, n) output checked against the CPU reference: all for small m, else a sample. */
static std::vector<int> sample_rows(int m, int limit = 48) {
  std::vector<int> r;
  if (m <= limit) {
    for (int i = 0; i < m; i++) r.push_back(i);
    return r;
  }
  for (int i = 0; i < limit; i++) r.push_back((int)((long long)i * (m - 1) / (limit - 1)));
  return r;
}
static std::vector<size_t> row_indices(const std::vector<int> &rows, int n) {
  std::vector<size_t> idx;
  for (int r : rows)
    for (int j = 0; j < n; j++) idx.push_back((size_t)r * n + j);
  return idx;
}

static const char *dts(vila_dtype d) { return d == VILA_F32 ? "f32" : d == VILA_F16 ? "f16" : "bf16"; }

// ---- matmul ----------------------------------------------------------------------------------

/** CPU: out (m,n) = x (m,k) · w (n,k)ᵀ + bias on the chosen rows, float64 sums. */
static std::vector<double> ref_matmul(const std::vector<float> &x, const std::vector<float> &w, const std::vector<float> *bias, int m,
                                      int n, int k, const std::vector<int> &rows) {
  std::vector<double> out((size_t)m * n, 0.0);
  parallel_for(n, [&](int j) {
    const float *wr = &w[(size_t)j * k];
    for (int r : rows) {
      const float *xr = &x[(size_t)r * k];
      double s = 0;
      for (int p = 0; p < k; p++) s += (double)xr[p] * wr[p];
      out[(size_t)r * n + j] = s + (bias ? (*bias)[j] : 0.0);
    }
  });
  return out;
}

static void case_matmul(int m, int n, int k, vila_dtype wdt, bool with_bias, double tol, uint32_t seed, int x_offset = 0) {
  if (skip((double)m * n * k)) return;
  std::mt19937 rng(seed);
  const float ws = 1.0f / std::sqrt((float)k);
  std::vector<float> x = rand_f((size_t)m * k + x_offset, rng);
  HostW w = make_w((size_t)n * k, wdt, rng, -ws, ws);
  HostW b = make_w(n, wdt, rng, -0.5f, 0.5f);
  Dev dx = dev_vec(x), dw = dev_from(w.bytes.data(), w.bytes.size()), db = dev_from(b.bytes.data(), b.bytes.size());
  Dev dout = dev_alloc((size_t)m * n * 4);
  VCHECK(vila_matmul_f32(dout.f(), dx.f() + x_offset, dw.p(), wdt, with_bias ? db.p() : nullptr, wdt, m, n, k));
  std::vector<float> xs(x.begin() + x_offset, x.end());
  const auto rows = sample_rows(m);
  const auto ref = ref_matmul(xs, w.val, with_bias ? &b.val : nullptr, m, n, k, rows);
  char name[128];
  snprintf(name, sizeof name, "matmul %s m=%d n=%d k=%d%s%s", dts(wdt), m, n, k, with_bias ? " +bias" : "",
           x_offset ? " (x unaligned)" : "");
  report(name, dout, (size_t)m * n, ref, row_indices(rows, n), tol);
  dev_free(dx), dev_free(dw), dev_free(db), dev_free(dout);
}

// ---- int4 (TinyChat v2) ----------------------------------------------------------------------

struct Q4Host {
  int n, k, G, gp;
  vila_dtype sdt;
  std::vector<uint16_t> qweight;         // (n/4, k)
  HostW scales, zeros;                   // (gp, n)
  std::vector<float> deq;                // (n, k) round(q·s + sz) in the scale dtype
};
static size_t q4_index(int k, int o, int i) {
  return (size_t)(o >> 2) * k + (i & ~63) + ((o & 3) << 4) + (((i >> 5) & 1) << 3) + (i & 7);
}
static Q4Host make_q4(int n, int k, int G, vila_dtype sdt, std::mt19937 &rng) {
  Q4Host h;
  h.n = n, h.k = k, h.G = G, h.sdt = sdt;
  h.gp = 8 * ((k / G + 7) / 8);
  std::vector<uint8_t> q((size_t)n * k);
  std::uniform_int_distribution<int> Q(0, 15);
  for (size_t i = 0; i < q.size(); i += 8) {  // 8 nibbles per 32-bit draw (k % 64 == 0)
    uint32_t r = (uint32_t)rng();
    for (int j = 0; j < 8; j++, r >>= 4) q[i + j] = (uint8_t)(r & 15);
  }
  h.qweight.assign((size_t)n / 4 * k, 0);
  parallel_for(n / 4, [&](int rb) {  // each row block owns its k words
    for (int o = 4 * rb; o < 4 * rb + 4; o++)
      for (int i = 0; i < k; i++) h.qweight[q4_index(k, o, i)] |= (uint16_t)(q[(size_t)o * k + i] << (4 * ((i >> 3) & 3)));
  });
  const size_t tn = (size_t)h.gp * n;
  h.scales.dt = h.zeros.dt = sdt;
  h.scales.val.assign(tn, 0.f), h.zeros.val.assign(tn, 0.f);
  const size_t es = sdt == VILA_F32 ? 4 : 2;
  h.scales.bytes.assign(tn * es, 0), h.zeros.bytes.assign(tn * es, 0);
  std::uniform_real_distribution<float> S(0.002f, 0.02f);
  for (size_t i = 0; i < tn; i++) {
    const bool pad = (int)(i / n) >= k / G;  // padding rows: NaN, so that reading them shows
    double s = round_to(S(rng), sdt), z = Q(rng);
    double sz = round_to(-(double)(float)(s * z), sdt);
    if (pad) s = sz = NAN;
    h.scales.val[i] = (float)s, h.zeros.val[i] = (float)sz;
    if (sdt == VILA_F32) {
      memcpy(&h.scales.bytes[4 * i], &h.scales.val[i], 4);
      memcpy(&h.zeros.bytes[4 * i], &h.zeros.val[i], 4);
    } else {
      const uint16_t a = sdt == VILA_F16 ? f16_bits(s) : bf16_bits(s), b = sdt == VILA_F16 ? f16_bits(sz) : bf16_bits(sz);
      memcpy(&h.scales.bytes[2 * i], &a, 2);
      memcpy(&h.zeros.bytes[2 * i], &b, 2);
    }
  }
  h.deq.assign((size_t)n * k, 0.f);
  parallel_for(n, [&](int o) {
    for (int i = 0; i < k; i++) {
      const size_t si = (size_t)(i / G) * n + o;
      const int qq = (h.qweight[q4_index(k, o, i)] >> (4 * ((i >> 3) & 3))) & 15;
      h.deq[(size_t)o * k + i] = (float)round_to(qq * (double)h.scales.val[si] + (double)h.zeros.val[si], sdt);
    }
  });
  return h;
}

static void case_q4(int m, int n, int k, int G, vila_dtype sdt, bool with_bias, double tol, uint32_t seed, int x_offset = 0) {
  if (skip((double)m * n * k)) return;
  std::mt19937 rng(seed);
  Q4Host w = make_q4(n, k, G, sdt, rng);
  std::vector<float> x = rand_f((size_t)m * k + x_offset, rng);
  HostW b = make_w(n, VILA_F16, rng, -0.5f, 0.5f);
  Dev dx = dev_vec(x), dq = dev_vec(w.qweight), ds = dev_from(w.scales.bytes.data(), w.scales.bytes.size()),
      dz = dev_from(w.zeros.bytes.data(), w.zeros.bytes.size()), db = dev_from(b.bytes.data(), b.bytes.size());
  Dev dout = dev_alloc((size_t)m * n * 4);
  VCHECK(vila_matmul_q4_f32(dout.f(), dx.f() + x_offset, static_cast<const uint16_t *>(dq.p()), ds.p(), dz.p(), sdt, G,
                            with_bias ? db.p() : nullptr, VILA_F16, m, n, k));
  std::vector<float> xs(x.begin() + x_offset, x.end());
  const auto rows = sample_rows(m);
  const auto ref = ref_matmul(xs, w.deq, with_bias ? &b.val : nullptr, m, n, k, rows);
  char name[128];
  snprintf(name, sizeof name, "matmul_q4 %s G=%d m=%d n=%d k=%d%s%s", dts(sdt), G, m, n, k, with_bias ? " +bias" : "",
           x_offset ? " (x unaligned)" : "");
  report(name, dout, (size_t)m * n, ref, row_indices(rows, n), tol);
  dev_free(dx), dev_free(dq), dev_free(ds), dev_free(dz), dev_free(db), dev_free(dout);
}

/** The dequantization itself, bit for bit: x = identity rows picks single weights (m ≤ 8: GEMV). */
static void case_q4_exact(int n, int k, int G, vila_dtype sdt, uint32_t seed) {
  std::mt19937 rng(seed);
  Q4Host w = make_q4(n, k, G, sdt, rng);
  const int m = 8;
  std::vector<float> x((size_t)m * k, 0.f);
  std::vector<int> cols(m);
  for (int i = 0; i < m; i++) {
    cols[i] = (int)(rng() % k);
    x[(size_t)i * k + cols[i]] = 1.0f;
  }
  Dev dx = dev_vec(x), dq = dev_vec(w.qweight), ds = dev_from(w.scales.bytes.data(), w.scales.bytes.size()),
      dz = dev_from(w.zeros.bytes.data(), w.zeros.bytes.size());
  Dev dout = dev_alloc((size_t)m * n * 4);
  VCHECK(vila_matmul_q4_f32(dout.f(), dx.f(), static_cast<const uint16_t *>(dq.p()), ds.p(), dz.p(), sdt, G, nullptr, VILA_F32, m, n, k));
  std::vector<double> ref((size_t)m * n);
  for (int i = 0; i < m; i++)
    for (int o = 0; o < n; o++) ref[(size_t)i * n + o] = w.deq[(size_t)o * k + cols[i]];
  char name[128];
  snprintf(name, sizeof name, "matmul_q4 %s G=%d n=%d k=%d dequantized weights bit-exact", dts(sdt), G, n, k);
  report(name, dout, (size_t)m * n, ref, {}, 0.0);
  dev_free(dx), dev_free(dq), dev_free(ds), dev_free(dz), dev_free(dout);
}

// ---- norms, activations, elementwise -----------------------------------------------------------

/**
 * One int4 GEMV problem checked under every GEMV version (VILA_Q4_GEMV 1..N) in this process:
 * inputs and reference built once; each version runs twice and must give bit-identical outputs
 * (split-K reductions are in a fixed order), within `tol` of the reference.
 */
static void case_q4_versions(int m, int n, int k, int G, vila_dtype sdt, bool with_bias, double tol, uint32_t seed) {
  if (skip((double)m * n * k)) return;
  std::mt19937 rng(seed);
  Q4Host w = make_q4(n, k, G, sdt, rng);
  std::vector<float> x = rand_f((size_t)m * k, rng);
  HostW b = make_w(n, VILA_F16, rng, -0.5f, 0.5f);
  Dev dx = dev_vec(x), dq = dev_vec(w.qweight), ds = dev_from(w.scales.bytes.data(), w.scales.bytes.size()),
      dz = dev_from(w.zeros.bytes.data(), w.zeros.bytes.size()), db = dev_from(b.bytes.data(), b.bytes.size());
  const auto rows = sample_rows(m);
  const auto ref = ref_matmul(x, w.deq, with_bias ? &b.val : nullptr, m, n, k, rows);
  const int keep = vila_q4_gemv_set_version(0);
  for (int v = 1; v <= vila_q4_gemv_versions(); v++) {
    if (vila_q4_gemv_set_version(v) != v) {
      printf("FAIL vila_q4_gemv_set_version(%d)\n", v);
      g_fail++;
      continue;
    }
    Dev o1 = dev_alloc((size_t)m * n * 4), o2 = dev_alloc((size_t)m * n * 4);
    for (Dev *o : {&o1, &o2})
      VCHECK(vila_matmul_q4_f32(o->f(), dx.f(), static_cast<const uint16_t *>(dq.p()), ds.p(), dz.p(), sdt, G,
                                with_bias ? db.p() : nullptr, VILA_F16, m, n, k));
    VCHECK(vila_sync());
    const std::vector<float> a = download(o1, (size_t)m * n), c = download(o2, (size_t)m * n);
    const bool same = memcmp(a.data(), c.data(), a.size() * 4) == 0;
    char name[128];
    snprintf(name, sizeof name, "q4 GEMV v%d %s G=%d m=%d n=%d k=%d%s%s", v, dts(sdt), G, m, n, k, with_bias ? " +bias" : "",
             same ? "" : " NONDETERMINISTIC");
    report(name, o1, (size_t)m * n, ref, row_indices(rows, n), same ? tol : -1.0);
    dev_free(o1), dev_free(o2);
  }
  vila_q4_gemv_set_version(keep);
  dev_free(dx), dev_free(dq), dev_free(ds), dev_free(dz), dev_free(db);
}

/** case_q4_exact under every GEMV version (m = 8: the bit-exact dequantization of each path). */
static void case_q4_exact_versions(int n, int k, int G, vila_dtype sdt, uint32_t seed) {
  const int keep = vila_q4_gemv_set_version(0);
  for (int v = 1; v <= vila_q4_gemv_versions(); v++) {
    vila_q4_gemv_set_version(v);
    printf("     (GEMV v%d) ", v);
    case_q4_exact(n, k, G, sdt, seed);
  }
  vila_q4_gemv_set_version(keep);
}

static void case_norm(bool layer, int m, int n, vila_dtype dt, double tol, uint32_t seed) {
  if (skip((double)m * n * 100)) return;
  std::mt19937 rng(seed);
  std::vector<float> x = rand_f((size_t)m * n, rng, -2.f, 3.f);
  HostW w = make_w(n, dt, rng, 0.5f, 1.5f), b = make_w(n, dt, rng, -0.5f, 0.5f);
  const float eps = layer ? 1e-6f : 1e-5f;
  Dev dx = dev_vec(x), dw = dev_from(w.bytes.data(), w.bytes.size()), db = dev_from(b.bytes.data(), b.bytes.size());
  Dev dout = dev_alloc((size_t)m * n * 4);
  if (layer) VCHECK(vila_layer_norm_f32(dout.f(), dx.f(), dw.p(), db.p(), dt, eps, m, n));
  else VCHECK(vila_rms_norm_f32(dout.f(), dx.f(), dw.p(), dt, eps, m, n));
  std::vector<double> ref((size_t)m * n);
  parallel_for(m, [&](int i) {
    const float *xr = &x[(size_t)i * n];
    if (layer) {
      double mean = 0;
      for (int j = 0; j < n; j++) mean += xr[j];
      mean /= n;
      double v = 0;
      for (int j = 0; j < n; j++) v += (xr[j] - mean) * (xr[j] - mean);
      const double inv = 1 / std::sqrt(v / n + (double)eps);
      for (int j = 0; j < n; j++) ref[(size_t)i * n + j] = (xr[j] - mean) * inv * w.val[j] + b.val[j];
    } else {
      double ss = 0;
      for (int j = 0; j < n; j++) ss += (double)xr[j] * xr[j];
      const double inv = 1 / std::sqrt(ss / n + (double)eps);
      for (int j = 0; j < n; j++) ref[(size_t)i * n + j] = xr[j] * inv * w.val[j];
    }
  });
  char name[128];
  snprintf(name, sizeof name, "%s %s m=%d n=%d", layer ? "layer_norm" : "rms_norm", dts(dt), m, n);
  report(name, dout, (size_t)m * n, ref, {}, tol);
  dev_free(dx), dev_free(dw), dev_free(db), dev_free(dout);
}

static void case_unary(const char *op, size_t count, double tol, uint32_t seed) {
  if (skip((double)count * 100)) return;
  std::mt19937 rng(seed);
  std::vector<float> x = rand_f(count, rng, -6.f, 6.f);
  Dev dx = dev_vec(x), dout = dev_alloc(count * 4);
  const bool tanh_ = strcmp(op, "gelu_tanh") == 0;
  if (tanh_) VCHECK(vila_gelu_tanh_f32(dout.f(), dx.f(), count));
  else VCHECK(vila_gelu_erf_f32(dout.f(), dx.f(), count));
  std::vector<double> ref(count);
  const double k = std::sqrt(2 / M_PI);
  for (size_t i = 0; i < count; i++) {
    const double v = x[i];
    ref[i] = tanh_ ? 0.5 * v * (1 + std::tanh(k * (v + 0.044715 * v * v * v))) : 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
  }
  char name[128];
  snprintf(name, sizeof name, "%s count=%zu", op, count);
  report(name, dout, count, ref, {}, tol);
  dev_free(dx), dev_free(dout);
}

static void case_binary(const char *op, size_t count, double tol, uint32_t seed, int offset = 0) {
  if (skip((double)count * 100)) return;
  std::mt19937 rng(seed);
  std::vector<float> a = rand_f(count + offset, rng, -8.f, 8.f), b = rand_f(count + offset, rng, -3.f, 3.f);
  Dev da = dev_vec(a), dbb = dev_vec(b), dout = dev_alloc(count * 4);
  const float *pa = da.f() + offset, *pb = dbb.f() + offset;
  if (!strcmp(op, "silu_mul")) VCHECK(vila_silu_mul_f32(dout.f(), pa, pb, count));
  else if (!strcmp(op, "add")) VCHECK(vila_add_f32(dout.f(), pa, pb, count));
  else VCHECK(vila_mul_f32(dout.f(), pa, pb, count));
  std::vector<double> ref(count);
  for (size_t i = 0; i < count; i++) {
    const double g = a[i + offset], u = b[i + offset];
    ref[i] = !strcmp(op, "silu_mul") ? (g / (1 + std::exp(-g))) * u : !strcmp(op, "add") ? (double)(float)(g + u) : (double)(float)(g * u);
  }
  char name[128];
  snprintf(name, sizeof name, "%s count=%zu%s", op, count, offset ? " (unaligned)" : "");
  report(name, dout, count, ref, {}, tol);
  dev_free(da), dev_free(dbb), dev_free(dout);
}

// ---- rope ------------------------------------------------------------------------------------

static void case_rope(int m, int heads, int hd, float theta, int maxpos, double tol, uint32_t seed) {
  if (skip((double)m * heads * hd * 100)) return;
  std::mt19937 rng(seed);
  const int width = heads * hd;
  std::vector<float> x = rand_f((size_t)m * width, rng);
  std::vector<int32_t> pos(m);
  for (int i = 0; i < m; i++) pos[i] = (int32_t)(rng() % (maxpos + 1));
  if (m > 1) pos[m - 1] = maxpos;
  Dev dx = dev_vec(x), dp = dev_vec(pos);
  VCHECK(vila_rope_f32(dx.f(), static_cast<const int32_t *>(dp.p()), m, heads, hd, theta));
  std::vector<double> ref((size_t)m * width);
  const int half = hd / 2;
  for (int r = 0; r < m; r++) {
    for (int j = 0; j < half; j++) {
      const float e = (float)(2 * j) / (float)hd;
      const float p = (float)std::pow((double)theta, (double)e);
      const float inv = 1.0f / p;
      const float ang = (float)((double)pos[r] * (double)inv);
      const double c = (float)std::cos((double)ang), s = (float)std::sin((double)ang);
      for (int h = 0; h < heads; h++) {
        const size_t base = (size_t)r * width + (size_t)h * hd;
        const double a = x[base + j], b = x[base + j + half];
        ref[base + j] = (float)(a * c - b * s);
        ref[base + j + half] = (float)(b * c + a * s);
      }
    }
  }
  char name[128];
  snprintf(name, sizeof name, "rope m=%d heads=%d head_dim=%d theta=%g maxpos=%d", m, heads, hd, theta, maxpos);
  report(name, dx, (size_t)m * width, ref, {}, tol);
  dev_free(dx), dev_free(dp);
}

// ---- attention -------------------------------------------------------------------------------

static void case_attention(int m, int kv_len, int capacity, int q_start, int heads, int kvh, int hd, bool causal, double tol,
                           uint32_t seed) {
  if (skip((double)m * kv_len * heads * hd)) return;
  std::mt19937 rng(seed);
  const int width = heads * hd, kvw = kvh * hd;
  std::vector<float> q = rand_f((size_t)m * width, rng, -2.f, 2.f);
  std::vector<float> k = rand_f((size_t)capacity * kvw, rng, -2.f, 2.f), v = rand_f((size_t)capacity * kvw, rng);
  for (size_t i = (size_t)kv_len * kvw; i < k.size(); i++) k[i] = v[i] = NAN;  // rows past kv_len must not be read
  const float scale = 1.0f / std::sqrt((float)hd);
  Dev dq = dev_vec(q), dk = dev_vec(k), dv = dev_vec(v), dout = dev_alloc((size_t)m * width * 4);
  VCHECK(vila_attention_f32(dout.f(), dq.f(), dk.f(), dv.f(), m, kv_len, q_start, heads, kvh, hd, causal ? 1 : 0, scale));
  std::vector<double> ref((size_t)m * width);
  const int group = heads / kvh;
  parallel_for(m * heads, [&](int rh) {
    const int r = rh / heads, h = rh % heads;
    const int visible = causal ? q_start + r + 1 : kv_len;
    std::vector<double> sc(visible), acc(hd, 0.0);
    const float *qr = &q[(size_t)r * width + (size_t)h * hd];
    const int ko = (h / group) * hd;
    double mx = -INFINITY;
    for (int t = 0; t < visible; t++) {
      double s = 0;
      for (int c = 0; c < hd; c++) s += (double)qr[c] * k[(size_t)t * kvw + ko + c];
      s *= scale;
      sc[t] = s;
      mx = std::max(mx, s);
    }
    double sum = 0;
    for (int t = 0; t < visible; t++) sum += (sc[t] = std::exp(sc[t] - mx));
    for (int t = 0; t < visible; t++) {
      const double p = sc[t] / sum;
      for (int c = 0; c < hd; c++) acc[c] += p * v[(size_t)t * kvw + ko + c];
    }
    for (int c = 0; c < hd; c++) ref[(size_t)r * width + (size_t)h * hd + c] = acc[c];
  });
  char name[160];
  snprintf(name, sizeof name, "attention m=%d kv=%d q0=%d h=%d/%d d=%d %s", m, kv_len, q_start, heads, kvh, hd,
           causal ? "causal" : "full");
  report(name, dout, (size_t)m * width, ref, {}, tol);
  dev_free(dq), dev_free(dk), dev_free(dv), dev_free(dout);
}

// ---- embedding, vision -----------------------------------------------------------------------

static void case_embedding(int count, int vocab, int d, vila_dtype dt, uint32_t seed) {
  if (skip((double)vocab * d)) return;
  std::mt19937 rng(seed);
  HostW t = make_w((size_t)vocab * d, dt, rng, -1.f, 1.f);
  std::vector<int32_t> ids(count);
  for (auto &i : ids) i = (int32_t)(rng() % vocab);
  ids[0] = vocab - 1;
  Dev dt_ = dev_from(t.bytes.data(), t.bytes.size()), di = dev_vec(ids), dout = dev_alloc((size_t)count * d * 4);
  VCHECK(vila_embedding_f32(dout.f(), dt_.p(), dt, static_cast<const int32_t *>(di.p()), count, vocab, d));
  std::vector<double> ref((size_t)count * d);
  for (int r = 0; r < count; r++)
    for (int j = 0; j < d; j++) ref[(size_t)r * d + j] = t.val[(size_t)ids[r] * d + j];
  char name[128];
  snprintf(name, sizeof name, "embedding %s count=%d vocab=%d d=%d", dts(dt), count, vocab, d);
  report(name, dout, (size_t)count * d, ref, {}, 0.0);
  dev_free(dt_), dev_free(di), dev_free(dout);
}

static void case_patch_embed(int c, int h, int w, int d, int p, vila_dtype dt, double tol, uint32_t seed) {
  if (skip((double)c * h * w * d)) return;
  std::mt19937 rng(seed);
  std::vector<float> px = rand_f((size_t)c * h * w, rng);
  const int kk = c * p * p;
  const float ws = 1.0f / std::sqrt((float)kk);
  HostW wt = make_w((size_t)d * kk, dt, rng, -ws, ws), b = make_w(d, dt, rng, -0.5f, 0.5f);
  const int gh = h / p, gw = w / p, np = gh * gw;
  Dev dp = dev_vec(px), dw = dev_from(wt.bytes.data(), wt.bytes.size()), db = dev_from(b.bytes.data(), b.bytes.size());
  Dev dout = dev_alloc((size_t)np * d * 4);
  VCHECK(vila_patch_embed_f32(dout.f(), dp.f(), dw.p(), db.p(), dt, c, h, w, d, p));
  std::vector<double> ref((size_t)np * d);
  parallel_for(d, [&](int o) {
    for (int gy = 0; gy < gh; gy++)
      for (int gx = 0; gx < gw; gx++) {
        double s = 0;
        for (int ch = 0; ch < c; ch++)
          for (int ky = 0; ky < p; ky++)
            for (int kx = 0; kx < p; kx++)
              s += (double)px[(size_t)ch * h * w + (size_t)(gy * p + ky) * w + gx * p + kx] * wt.val[(size_t)o * kk + (ch * p + ky) * p + kx];
        ref[(size_t)(gy * gw + gx) * d + o] = s + b.val[o];
      }
  });
  char name[128];
  snprintf(name, sizeof name, "patch_embed %s c=%d h=%d w=%d d=%d p=%d", dts(dt), c, h, w, d, p);
  report(name, dout, (size_t)np * d, ref, {}, tol);
  dev_free(dp), dev_free(dw), dev_free(db), dev_free(dout);
}

static void case_downsample(int grid, int c, uint32_t seed) {
  if (skip((double)grid * grid * c * 100)) return;
  std::mt19937 rng(seed);
  std::vector<float> x = rand_f((size_t)grid * grid * c, rng);
  const int half = (grid + 1) / 2;
  Dev dx = dev_vec(x), dout = dev_alloc((size_t)half * half * 4 * c * 4);
  VCHECK(vila_downsample_2x2_f32(dout.f(), dx.f(), grid, c));
  std::vector<double> ref((size_t)half * half * 4 * c);
  for (int j = 0; j < half; j++)
    for (int i = 0; i < half; i++)
      for (int b = 0; b < 4; b++) {
        const int y = 2 * i + (b >> 1), xx = 2 * j + (b & 1);
        for (int e = 0; e < c; e++)
          ref[(size_t)(j * half + i) * 4 * c + b * c + e] = (y < grid && xx < grid) ? x[((size_t)y * grid + xx) * c + e] : 0.0;
      }
  char name[128];
  snprintf(name, sizeof name, "downsample_2x2 grid=%d c=%d", grid, c);
  report(name, dout, ref.size(), ref, {}, 0.0);
  dev_free(dx), dev_free(dout);
}

static void case_api() {
  // An argument error returns VILA_ERR_ARG with a message and launches nothing.
  vila_status st = vila_matmul_q4_f32(nullptr, nullptr, nullptr, nullptr, nullptr, VILA_F16, 128, nullptr, VILA_F16, 1, 6, 128);
  const bool ok1 = st == VILA_ERR_ARG && strlen(vila_last_error()) > 0;
  // Ops on a non-default stream.
  cudaStream_t s;
  cudaStreamCreate(&s);
  VCHECK(vila_set_stream(s));
  std::vector<float> a(1000, 1.5f), b(1000, 2.0f);
  Dev da = dev_vec(a), db = dev_vec(b), dout = dev_alloc(4000);
  VCHECK(vila_add_f32(dout.f(), da.f(), db.f(), 1000));
  std::vector<float> got(1000);
  VCHECK(vila_download(got.data(), dout.p(), 4000));
  bool ok2 = true;
  for (float g : got) ok2 = ok2 && g == 3.5f;
  VCHECK(vila_sync());
  VCHECK(vila_set_stream(nullptr));
  cudaStreamDestroy(s);
  dev_free(da), dev_free(db), dev_free(dout);
  const bool ok = ok1 && ok2;
  printf("%-4s %-58s arg error: %s; own stream: %s\n", ok ? "PASS" : "FAIL", "api (VILA_ERR_ARG + message, vila_set_stream)", ok1 ? "ok" : "WRONG",
         ok2 ? "ok" : "WRONG");
  (ok ? g_pass : g_fail)++;
}

/**
 * Host-only checks of this file's own helpers (run with --selftest; needs no GPU): the f16/bf16
 * encoders against cuda_fp16.h's host conversions, and the TinyChat v2 packing against the test
 * vector of spec/awq.md §2.4.
 */
static int host_selftest() {
  int bad = 0;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> U(-1.f, 1.f);
  for (int i = 0; i < 200000; i++) {
    const float x = std::ldexp(U(rng), (int)(rng() % 60) - 40);
    const uint16_t h = f16_bits(round_f16(x)), hr = __half_as_ushort(__float2half_rn(x));
    const uint16_t b = bf16_bits(round_bf16(x)), br = __bfloat16_as_ushort(__float2bfloat16_rn(x));
    if (h != hr || b != br || f16_to_f(h) != (float)round_f16(x) || bf16_to_f(b) != (float)round_bf16(x)) {
      if (bad++ < 5) printf("conversion mismatch x=%.9g f16 %04x vs %04x, bf16 %04x vs %04x\n", x, h, hr, b, br);
    }
  }
  const int n = 8, k = 128;
  std::vector<uint16_t> qw((size_t)n / 4 * k, 0);
  for (int o = 0; o < n; o++)
    for (int i = 0; i < k; i++) qw[q4_index(k, o, i)] |= (uint16_t)(((7 * o + 3 * i + i / 8) % 16) << (4 * ((i >> 3) & 3)));
  const uint16_t want[3][4] = {{0xb290, 0xe5c3, 0x18f6, 0x4b29}, {0x2907, 0x5c3a, 0x8f6d, 0xb290}, {0x7e5c, 0xa18f, 0xd4b2, 0x07e5}};
  const size_t at[3] = {0, 16, (size_t)k};
  for (int r = 0; r < 3; r++)
    for (int j = 0; j < 4; j++)
      if (qw[at[r] + j] != want[r][j]) {
        bad++;
        printf("packing mismatch at word %zu: %04x, expected %04x\n", at[r] + j, qw[at[r] + j], want[r][j]);
      }
  printf("%s host self-test (f16/bf16 encoders, TinyChat v2 packing test vector)\n", bad ? "FAIL" : "PASS");
  return bad;
}

static void run_checks() {
  printf("== correctness (NMSE vs a float64 CPU reference written from src/ref/*.ts)\n");
  case_api();
  // dense matmul: GEMV (m ≤ 8), tensor cores (f16, bf16 split), f32 SIMT; ragged sizes
  case_matmul(1, 6912, 2560, VILA_BF16, false, 1e-10, 1);
  case_matmul(1, 2560, 6912, VILA_F16, true, 1e-10, 2);
  case_matmul(5, 4304, 1152, VILA_F32, true, 1e-10, 3);
  case_matmul(8, 100, 37, VILA_BF16, true, 1e-10, 4);
  case_matmul(3, 29, 64, VILA_F16, false, 1e-10, 5, 1);
  case_matmul(729, 4304, 1152, VILA_BF16, true, 1e-8, 6);
  case_matmul(729, 1152, 4304, VILA_F16, true, 1e-6, 7);
  case_matmul(300, 6912, 2560, VILA_F16, false, 1e-6, 8);
  case_matmul(300, 2560, 6912, VILA_BF16, false, 1e-8, 9);
  case_matmul(77, 130, 300, VILA_F32, true, 1e-10, 10);
  case_matmul(45, 33, 37, VILA_F16, true, 1e-6, 11, 1);
  case_matmul(130, 70, 19, VILA_BF16, false, 1e-8, 12);
  // int4: bit-exact dequantization, then GEMV (m ≤ 8) and GEMM at model shapes
  case_q4_exact(256, 512, 128, VILA_F16, 20);
  case_q4_exact(100, 192, 64, VILA_BF16, 21);
  case_q4_exact(64, 384, 32, VILA_F32, 22);
  case_q4(1, 4096, 4096, 128, VILA_F16, false, 1e-10, 23);
  case_q4(1, 6912, 2560, 128, VILA_F16, false, 1e-10, 24);
  case_q4(1, 2560, 6912, 128, VILA_BF16, true, 1e-10, 25);
  case_q4(1, 14336, 4096, 128, VILA_F16, false, 1e-10, 26);
  case_q4(1, 4096, 14336, 128, VILA_F16, false, 1e-10, 27);
  case_q4(4, 2560, 2560, 64, VILA_F16, true, 1e-10, 28);
  case_q4(8, 6912, 2560, 128, VILA_F32, false, 1e-10, 29);
  case_q4(1, 100, 192, 64, VILA_F16, true, 1e-10, 30);
  case_q4(3, 100, 192, 64, VILA_BF16, false, 1e-10, 31, 1);
  case_q4(2, 64, 128, 16, VILA_F16, false, 1e-10, 32);
  case_q4(300, 6912, 2560, 128, VILA_F16, false, 1e-6, 33);
  case_q4(300, 2560, 6912, 128, VILA_BF16, true, 1e-8, 34);
  case_q4(729, 4304, 1152, 64, VILA_F16, true, 1e-6, 35);
  case_q4(17, 100, 192, 64, VILA_F16, false, 1e-6, 36);
  case_q4(64, 2560, 2560, 128, VILA_F16, true, 1e-6, 74);     // 64-row tiles, split-K 8
  case_q4(12, 2560, 6912, 128, VILA_BF16, false, 1e-8, 75);   // 64-row tiles, split-K
  case_q4(33, 100, 192, 64, VILA_F32, true, 1e-10, 37);
  case_q4(20, 96, 320, 64, VILA_BF16, false, 1e-8, 38);
  case_q4(40, 64, 128, 16, VILA_BF16, false, 1e-10, 39);
  // every int4 GEMV version (VILA_Q4_GEMV) at the decode shapes, in this process
  printf("-- int4 GEMV versions 1..%d (default %d)\n", vila_q4_gemv_versions(), vila_q4_gemv_set_version(0));
  case_q4_versions(1, 4096, 4096, 128, VILA_F16, false, 1e-10, 80);
  case_q4_versions(4, 4096, 4096, 128, VILA_F16, true, 1e-10, 81);
  case_q4_versions(1, 6912, 2560, 128, VILA_F16, true, 1e-10, 82);
  case_q4_versions(4, 6912, 2560, 128, VILA_BF16, false, 1e-10, 83);
  case_q4_versions(1, 2560, 6912, 128, VILA_BF16, true, 1e-10, 84);
  case_q4_versions(4, 2560, 6912, 128, VILA_F16, false, 1e-10, 85);
  case_q4_versions(1, 14336, 4096, 128, VILA_F16, false, 1e-10, 86);
  case_q4_versions(1, 4096, 4096, 64, VILA_BF16, false, 1e-10, 87);
  case_q4_versions(2, 4096, 4096, 64, VILA_F16, true, 1e-10, 88);
  case_q4_versions(8, 4096, 4096, 128, VILA_F32, false, 1e-10, 89);
  case_q4_versions(1, 100, 192, 64, VILA_F16, true, 1e-10, 90);
  case_q4_versions(4, 100, 192, 64, VILA_BF16, false, 1e-10, 91);
  case_q4_versions(7, 100, 192, 64, VILA_F32, true, 1e-10, 92);
  case_q4_versions(3, 64, 128, 32, VILA_F16, false, 1e-10, 93);
  case_q4_exact_versions(256, 512, 128, VILA_F16, 20);
  case_q4_exact_versions(100, 192, 64, VILA_BF16, 21);
  case_q4_exact_versions(64, 384, 32, VILA_F32, 22);
  // norms, activations, elementwise
  case_norm(false, 1, 2560, VILA_BF16, 1e-11, 40);
  case_norm(false, 300, 4096, VILA_F16, 1e-11, 41);
  case_norm(false, 7, 100, VILA_F32, 1e-11, 42);
  case_norm(true, 729, 1152, VILA_BF16, 1e-11, 43);
  case_norm(true, 3, 37, VILA_F32, 1e-11, 44);
  case_unary("gelu_tanh", (size_t)729 * 4304, 1e-11, 45);
  case_unary("gelu_tanh", 13, 1e-11, 46);
  case_unary("gelu_erf", 12345, 1e-11, 47);
  case_binary("silu_mul", (size_t)300 * 6912, 1e-11, 48);
  case_binary("silu_mul", 6913, 1e-11, 49, 1);
  case_binary("add", 2560, 0.0, 50);
  case_binary("add", 1001, 0.0, 51, 3);
  case_binary("mul", 4097, 0.0, 52);
  // rope
  case_rope(300, 20, 128, 10000.f, 4095, 1e-12, 53);
  case_rope(1, 32, 128, 500000.f, 4000, 1e-12, 54);
  case_rope(5, 3, 64, 10000.f, 100000, 1e-12, 55);
  // attention: decode (split-KV), prefill (tiled), GQA, causal with q_start, non-causal SigLIP
  case_attention(1, 1024, 1100, 1023, 20, 20, 128, true, 1e-10, 56);
  case_attention(1, 4000, 4096, 3999, 32, 8, 128, true, 1e-10, 57);
  case_attention(1, 77, 80, 76, 4, 2, 64, true, 1e-10, 58);
  case_attention(300, 300, 300, 0, 20, 20, 128, true, 1e-10, 59);
  case_attention(64, 264, 512, 200, 32, 8, 128, true, 1e-10, 60);
  case_attention(729, 729, 729, 0, 16, 16, 72, false, 1e-10, 61);
  case_attention(5, 17, 17, 0, 4, 4, 64, false, 1e-10, 62);
  case_attention(3, 40, 64, 30, 6, 3, 40, true, 1e-10, 63);
  case_attention(9, 200, 256, 0, 2, 1, 48, false, 1e-10, 64);
  // embedding, vision
  case_embedding(37, 32000, 2560, VILA_BF16, 65);
  case_embedding(5, 1000, 100, VILA_F16, 66);
  case_embedding(3, 50, 7, VILA_F32, 67);
  case_patch_embed(3, 384, 384, 1152, 14, VILA_BF16, 1e-8, 68);
  case_patch_embed(3, 30, 45, 20, 7, VILA_F32, 1e-10, 69);
  case_patch_embed(3, 28, 28, 64, 14, VILA_F16, 1e-6, 70);
  case_downsample(27, 1152, 71);
  case_downsample(4, 8, 72);
  case_downsample(5, 3, 73);
  printf("== %d passed, %d failed\n", g_pass, g_fail);
}

// ---- benchmarks ------------------------------------------------------------------------------

/** Median over `reps` of (time of `batch` calls)/batch, in ms, after `warm` calls. */
static double time_ms(const std::function<void(int)> &fn, int warm = 3, int reps = 9, int batch = 20) {
  cudaEvent_t a, b;
  cudaEventCreate(&a), cudaEventCreate(&b);
  int it = 0;
  for (int i = 0; i < warm; i++) fn(it++);
  std::vector<double> t;
  for (int r = 0; r < reps; r++) {
    cudaEventRecord(a, nullptr);
    for (int i = 0; i < batch; i++) fn(it++);
    cudaEventRecord(b, nullptr);
    cudaEventSynchronize(b);
    float ms;
    cudaEventElapsedTime(&ms, a, b);
    t.push_back(ms / batch);
  }
  cudaEventDestroy(a), cudaEventDestroy(b);
  VCHECK(vila_sync());
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

/**
 * The same as time_ms, but the `batch` calls are captured once into a CUDA graph (on a stream of
 * their own) and the graph is replayed: what a decode step run as a graph sees.
 */
static double time_graph_ms(const std::function<void(int)> &fn, int reps = 9, int batch = 20) {
  cudaStream_t s;
  cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
  VCHECK(vila_set_stream(s));
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
  for (int i = 0; i < batch; i++) fn(i);
  if (cudaStreamEndCapture(s, &graph) != cudaSuccess || cudaGraphInstantiate(&exec, graph, 0) != cudaSuccess) {
    cudaGetLastError();
    VCHECK(vila_set_stream(nullptr));
    cudaStreamDestroy(s);
    return NAN;
  }
  cudaEvent_t a, b;
  cudaEventCreate(&a), cudaEventCreate(&b);
  for (int i = 0; i < 2; i++) cudaGraphLaunch(exec, s);
  std::vector<double> t;
  for (int r = 0; r < reps; r++) {
    cudaEventRecord(a, s);
    cudaGraphLaunch(exec, s);
    cudaEventRecord(b, s);
    cudaEventSynchronize(b);
    float ms;
    cudaEventElapsedTime(&ms, a, b);
    t.push_back(ms / batch);
  }
  cudaEventDestroy(a), cudaEventDestroy(b);
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  VCHECK(vila_sync());
  VCHECK(vila_set_stream(nullptr));
  cudaStreamDestroy(s);
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

struct Row {
  std::string what;
  double value;
  std::string unit;
  std::string note;
};

/** The device's L2 size (50 MiB when the driver does not say). */
static size_t l2_bytes() {
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, 0);
  return prop.l2CacheSize > 0 ? (size_t)prop.l2CacheSize : (size_t)50 << 20;
}

/** Device-to-device copy bandwidth, 512 MiB, counting read + write (GB/s). */
static double copy_bandwidth_gbs() {
  const size_t cb = (size_t)512 << 20;
  void *c0, *c1;
  VCHECK(vila_malloc(&c0, cb));
  VCHECK(vila_malloc(&c1, cb));
  VCHECK(vila_memset0(c0, cb));
  const double tcopy = time_ms([&](int) { cudaMemcpyAsync(c1, c0, cb, cudaMemcpyDeviceToDevice, nullptr); }, 2, 7, 5);
  const double copy_gbs = 2.0 * cb / (tcopy * 1e-3) / 1e9;
  VCHECK(vila_free(c0));
  VCHECK(vila_free(c1));
  return copy_gbs;
}

/**
 * An int4 GEMV benchmark case whose weights come from DRAM: enough device copies of `w` (together
 * more than 3× the L2) used round robin, one input x (m, k) and output. Freed when it goes out of scope.
 */
struct ColdQ4 {
  const Q4Host &w;
  int m;
  size_t wq, wsb;
  std::vector<void *> qs, ss, zs;
  void *dx = nullptr, *dout = nullptr;
  ColdQ4(const Q4Host &w_, int m_, size_t l2, std::mt19937 &rng) : w(w_), m(m_) {
    wq = w.qweight.size() * 2;
    wsb = w.scales.bytes.size();
    const int copies = (int)std::min<size_t>(64, std::max<size_t>(2, (3 * l2) / (wq + 2 * wsb) + 1));
    for (int c = 0; c < copies; c++) {
      void *q, *sc, *z;
      VCHECK(vila_malloc(&q, wq));
      VCHECK(vila_malloc(&sc, wsb));
      VCHECK(vila_malloc(&z, wsb));
      VCHECK(vila_upload(q, w.qweight.data(), wq));
      VCHECK(vila_upload(sc, w.scales.bytes.data(), wsb));
      VCHECK(vila_upload(z, w.zeros.bytes.data(), wsb));
      qs.push_back(q), ss.push_back(sc), zs.push_back(z);
    }
    std::vector<float> x = rand_f((size_t)m * w.k, rng);
    VCHECK(vila_malloc(&dx, x.size() * 4));
    VCHECK(vila_upload(dx, x.data(), x.size() * 4));
    VCHECK(vila_malloc(&dout, (size_t)m * w.n * 4));
  }
  ColdQ4(const ColdQ4 &) = delete;
  ColdQ4 &operator=(const ColdQ4 &) = delete;
  ~ColdQ4() {
    for (size_t c = 0; c < qs.size(); c++) {
      VCHECK(vila_free(qs[c]));
      VCHECK(vila_free(ss[c]));
      VCHECK(vila_free(zs[c]));
    }
    VCHECK(vila_free(dx));
    VCHECK(vila_free(dout));
  }
  /** Call i reads copy i mod copies. */
  void call(int i) const {
    const size_t c = (size_t)i % qs.size();
    vila_matmul_q4_f32((float *)dout, (const float *)dx, (const uint16_t *)qs[c], ss[c], zs[c], w.sdt, w.G, nullptr, VILA_F16, m, w.n, w.k);
  }
  /** Bytes that must come from memory: qweight + the k/G scale and zero rows actually read + x + out. */
  size_t bytes() const {
    return wq + 2 * (size_t)(w.k / w.G) * w.n * (w.sdt == VILA_F32 ? 4 : 2) + (size_t)m * w.k * 4 + (size_t)m * w.n * 4;
  }
};

static void run_bench() {
  printf("== benchmarks (CUDA events, median of 9 batches of 20 calls after warmup; int4 GEMV weights\n"
         "   rotate over copies totalling > 3x L2, so they come from DRAM; 'graph' rows replay the 20\n"
         "   calls as one CUDA graph)\n");
  const size_t l2 = l2_bytes();
  std::vector<Row> rows;

  // device copy bandwidth
  const double copy_gbs = copy_bandwidth_gbs();
  rows.push_back({"device copy (cudaMemcpy D2D 512 MiB, read+write)", copy_gbs, "GB/s", ""});
  printf("copy: %.1f GB/s\n", copy_gbs);

  // int4 GEMV, cold: enough weight copies to overflow L2, used round robin
  struct Q4Shape {
    int n, k, m;
    vila_dtype sdt;
  };
  const Q4Shape q4s[] = {{4096, 4096, 1, VILA_F16}, {6912, 2560, 1, VILA_F16}, {2560, 6912, 1, VILA_F16},
                         {14336, 4096, 1, VILA_F16}, {4096, 4096, 1, VILA_BF16}, {4096, 4096, 4, VILA_F16}};
  for (const auto &s : q4s) {
    std::mt19937 rng(100 + s.n);
    Q4Host w = make_q4(s.n, s.k, 128, s.sdt, rng);
    ColdQ4 cold(w, s.m, l2, rng);
    auto call = [&](int i) { cold.call(i); };
    const double ms = time_ms(call);
    const double gms = time_graph_ms(call);
    // bytes that must come from memory: qweight + the k/G scale and zero rows actually read + x + out
    const size_t bytes = cold.bytes();
    const double gbs = bytes / (ms * 1e-3) / 1e9, ggbs = bytes / (gms * 1e-3) / 1e9;
    char what[128], note[64];
    snprintf(what, sizeof what, "int4 GEMV m=%d n=%d k=%d G=128 %s scales", s.m, s.n, s.k, dts(s.sdt));
    snprintf(note, sizeof note, "%.1f%% of copy, %.2f us", 100 * gbs / copy_gbs, ms * 1e3);
    rows.push_back({what, gbs, "GB/s", note});
    printf("%s: %.1f GB/s (%s)\n", what, gbs, note);
    snprintf(note, sizeof note, "%.1f%% of copy, %.2f us", 100 * ggbs / copy_gbs, gms * 1e3);
    rows.push_back({std::string(what) + " graph", ggbs, "GB/s", note});
    printf("%s, CUDA graph of 20: %.1f GB/s (%s)\n", what, ggbs, note);
  }

  // int4 GEMM and dense tensor-core matmul, TFLOP/s
  struct MM {
    int m, n, k;
    int kind;  // 0 int4 f16 scales, 1 int4 bf16 scales, 2 dense f16, 3 dense bf16, 4 dense f32
  };
  const MM mms[] = {{729, 6912, 2560, 0}, {512, 6912, 2560, 0}, {64, 2560, 2560, 0}, {512, 6912, 2560, 1}, {729, 4304, 1152, 2}, {729, 4304, 1152, 3},
                    {512, 6912, 2560, 2}, {729, 4304, 1152, 4}, {1, 6912, 2560, 2}};
  for (const auto &s : mms) {
    std::mt19937 rng(200 + s.m);
    std::vector<float> x = rand_f((size_t)s.m * s.k, rng);
    void *dx, *dout;
    VCHECK(vila_malloc(&dx, x.size() * 4));
    VCHECK(vila_upload(dx, x.data(), x.size() * 4));
    VCHECK(vila_malloc(&dout, (size_t)s.m * s.n * 4));
    double ms;
    char what[128];
    size_t wbytes = 0;
    if (s.kind <= 1) {
      const vila_dtype sd = s.kind == 0 ? VILA_F16 : VILA_BF16;
      Q4Host w = make_q4(s.n, s.k, 128, sd, rng);
      Dev dq = dev_vec(w.qweight), ds = dev_from(w.scales.bytes.data(), w.scales.bytes.size()),
          dz = dev_from(w.zeros.bytes.data(), w.zeros.bytes.size());
      ms = time_ms([&](int) {
        vila_matmul_q4_f32((float *)dout, (const float *)dx, (const uint16_t *)dq.p(), ds.p(), dz.p(), sd, 128, nullptr, VILA_F16, s.m,
                           s.n, s.k);
      });
      snprintf(what, sizeof what, "int4 GEMM m=%d n=%d k=%d %s scales", s.m, s.n, s.k, dts(sd));
      dev_free(dq), dev_free(ds), dev_free(dz);
    } else {
      const vila_dtype wd = s.kind == 2 ? VILA_F16 : s.kind == 3 ? VILA_BF16 : VILA_F32;
      HostW w = make_w((size_t)s.n * s.k, wd, rng, -0.05f, 0.05f);
      wbytes = w.bytes.size();
      Dev dw = dev_from(w.bytes.data(), w.bytes.size());
      ms = time_ms([&](int) { vila_matmul_f32((float *)dout, (const float *)dx, dw.p(), wd, nullptr, wd, s.m, s.n, s.k); });
      snprintf(what, sizeof what, "matmul %s m=%d n=%d k=%d", dts(wd), s.m, s.n, s.k);
      dev_free(dw);
    }
    const double tf = 2.0 * s.m * s.n * s.k / (ms * 1e-3) / 1e12;
    char note[64];
    snprintf(note, sizeof note, "%.3f ms", ms);
    if (s.m == 1) {
      const double gbs = (wbytes + x.size() * 4 + (size_t)s.n * 4) / (ms * 1e-3) / 1e9;
      rows.push_back({std::string(what) + " (GEMV)", gbs, "GB/s", note});
      printf("%s: %.1f GB/s (%s, L2-warm)\n", what, gbs, note);
    } else {
      rows.push_back({what, tf, "TFLOP/s", note});
      printf("%s: %.1f TFLOP/s (%s)\n", what, tf, note);
    }
    VCHECK(vila_free(dx));
    VCHECK(vila_free(dout));
  }

  // attention
  struct AT {
    int m, kv, heads, kvh, hd;
    bool causal;
  };
  const AT ats[] = {{1, 1024, 32, 8, 128, true}, {1, 1024, 20, 20, 128, true}, {1, 4096, 20, 20, 128, true},
                    {729, 729, 16, 16, 72, false}, {300, 300, 20, 20, 128, true}};
  for (const auto &a : ats) {
    std::mt19937 rng(300 + a.kv);
    const int width = a.heads * a.hd, kvw = a.kvh * a.hd;
    std::vector<float> q = rand_f((size_t)a.m * width, rng), k = rand_f((size_t)a.kv * kvw, rng), v = rand_f((size_t)a.kv * kvw, rng);
    Dev dq = dev_vec(q), dk = dev_vec(k), dv = dev_vec(v), dout = dev_alloc((size_t)a.m * width * 4);
    const int q0 = a.causal ? a.kv - a.m : 0;
    const double ms = time_ms([&](int) {
      vila_attention_f32(dout.f(), dq.f(), dk.f(), dv.f(), a.m, a.kv, q0, a.heads, a.kvh, a.hd, a.causal, 0.088f);
    });
    char what[128], note[64];
    snprintf(what, sizeof what, "attention m=%d kv=%d heads=%d/%d d=%d %s", a.m, a.kv, a.heads, a.kvh, a.hd, a.causal ? "causal" : "full");
    const double kvbytes = 2.0 * a.kv * kvw * 4;
    snprintf(note, sizeof note, "KV %.1f MB -> %.0f GB/s", kvbytes / 1e6, kvbytes / (ms * 1e-3) / 1e9);
    rows.push_back({what, ms * 1e3, "us", note});
    printf("%s: %.1f us (%s)\n", what, ms * 1e3, note);
    dev_free(dq), dev_free(dk), dev_free(dv), dev_free(dout);
  }

  printf("\n| %-58s | %10s | %-8s | %-30s |\n", "benchmark", "value", "unit", "note");
  printf("|%s|%s|%s|%s|\n", std::string(60, '-').c_str(), std::string(12, '-').c_str(), std::string(10, '-').c_str(),
         std::string(32, '-').c_str());
  for (const auto &r : rows) printf("| %-58s | %10.1f | %-8s | %-30s |\n", r.what.c_str(), r.value, r.unit.c_str(), r.note.c_str());
}

/**
 * --bench-gemv: every int4 GEMV version at the decode shapes, weights from DRAM (copies rotated
 * past 3x L2), plain back-to-back launches and a CUDA graph of 20; then the fastest per shape.
 */
static void run_bench_gemv() {
  const size_t l2 = l2_bytes();
  const double copy_gbs = copy_bandwidth_gbs();
  const int nv = vila_q4_gemv_versions(), keep = vila_q4_gemv_set_version(0);
  printf("== int4 GEMV versions (G=128, f16 scales; weights rotate over copies > 3x L2; median of 9 batches of 20;\n"
         "   device copy %.1f GB/s; default version %d; bytes = qweight + scales/zeros read + x + out)\n",
         copy_gbs, keep);
  struct S {
    int m, n, k;
  };
  const S shapes[] = {{1, 4096, 4096}, {1, 6912, 2560}, {1, 2560, 6912}, {1, 14336, 4096}, {4, 4096, 4096}};
  std::string verdict;
  for (const auto &s : shapes) {
    std::mt19937 rng(500 + s.n + s.m);
    Q4Host w = make_q4(s.n, s.k, 128, VILA_F16, rng);
    ColdQ4 cold(w, s.m, l2, rng);
    auto call = [&](int i) { cold.call(i); };
    const size_t bytes = cold.bytes();
    int best = 0, bestg = 0;
    double best_us = 1e30, bestg_us = 1e30;
    for (int v = 1; v <= nv; v++) {
      vila_q4_gemv_set_version(v);
      const double ms = time_ms(call), gms = time_graph_ms(call);
      const vila_status st = vila_sync();
      const double gbs = bytes / (ms * 1e-3) / 1e9, ggbs = bytes / (gms * 1e-3) / 1e9;
      printf("v%d m=%d n=%5d k=%5d: %7.1f GB/s %5.1f%% of copy %7.2f us | graph of 20: %7.1f GB/s %5.1f%% %7.2f us%s\n", v, s.m, s.n,
             s.k, gbs, 100 * gbs / copy_gbs, ms * 1e3, ggbs, 100 * ggbs / copy_gbs, gms * 1e3, st == VILA_OK ? "" : "  ERROR");
      if (st != VILA_OK) {
        printf("   %s\n", vila_last_error());
        g_fail++;
        continue;
      }
      if (ms * 1e3 < best_us) best_us = ms * 1e3, best = v;
      if (gms * 1e3 < bestg_us) bestg_us = gms * 1e3, bestg = v;
    }
    char buf[160];
    snprintf(buf, sizeof buf, "%s%dx%d m=%d: v%d (%.2f us) / graph v%d (%.2f us)", verdict.empty() ? "" : "; ", s.n, s.k, s.m, best,
             best_us, bestg, bestg_us);
    verdict += buf;
  }
  vila_q4_gemv_set_version(keep);
  printf("fastest (plain / graph): %s\n", verdict.c_str());
}

int main(int argc, char **argv) {
  bool checks = true, bench = true, bench_gemv = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--no-bench")) bench = false;
    else if (!strcmp(argv[i], "--bench")) checks = false;
    else if (!strcmp(argv[i], "--quick")) g_quick = true, bench = false;
    else if (!strcmp(argv[i], "--selftest")) return host_selftest() ? 1 : 0;
    else if (!strcmp(argv[i], "--bench-gemv")) bench_gemv = true, checks = false, bench = false;
  }
  if (host_selftest()) g_fail++;
  const auto t0 = std::chrono::steady_clock::now();
  int count = 0;
  if (vila_device_count(&count) != VILA_OK) {
    printf("no CUDA device: %s\n", vila_last_error());
    return 3;
  }
  char name[256];
  int major = 0, minor = 0;
  size_t mem = 0;
  VCHECK(vila_device_info(name, sizeof name, &major, &minor, &mem));
  printf("device: %s (sm_%d%d, %.1f GiB), %d device(s)\n", name, major, minor, mem / 1073741824.0, count);
  if (checks) run_checks();
  if (bench) run_bench();
  if (bench_gemv) run_bench_gemv();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  printf("\n%s: %d passed, %d failed, %.1f s\n", g_fail ? "FAILED" : "OK", g_pass, g_fail, secs);
  return g_fail ? 1 : 0;
}
