// operator new and delete for the command-line tool (and the benchmarks): small blocks freed with
// their size go to a per-size stack and the next allocation of that size takes the most recently
// freed one, which is still in the cache.
//
// Why: a run frees a message (its envelope, body and tag) when its last receiver is done with it,
// about a WAN latency after it was built, and builds the next one right away. mimalloc hands out a
// block from its page's free list, filled long ago: a block nobody touched for tens of
// milliseconds, so building the next message started with cache misses (operator new and the first
// writes to the message were an eighth of a default run's time). The block just freed is hot.
//
// Each size class (16-byte steps up to 512 bytes) keeps at most kKept pointers in a ring; when full,
// the oldest goes back to malloc. Only the pointers are touched, never the blocks, so an eviction
// costs no miss. Per thread (thread_local), so any thread is safe. Frees without a size (rare: code
// built without sized deallocation) and larger blocks go straight to malloc, which every block came
// from. Nothing is keyed or ordered by address, so results do not depend on it (the pinned digests
// check it).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace {

constexpr size_t kGranule = 16;
constexpr size_t kClasses = 512 / kGranule;
// Per class, a power of two. A replica executing a round builds a reply (three blocks) for each of
// its clients' requests in one go: with 256 such bursts emptied the ring (mi_malloc still 3.4% of
// a default run's time; 1.3% with 1,024). At most 8.6 MB held over all classes, 270 KB of rings.
constexpr uint32_t kKept = 1024;

struct SizeClassRing {
  void* blocks[kKept];
  uint32_t top = 0;    // pushes minus pops, modulo 2^32: the next free slot is top % kKept
  uint32_t count = 0;  // how many are held (<= kKept)
};

// Trivially destructible, so that reaching it costs no guard: a thread that ends leaves at most
// kKept blocks per class unreturned (the tool's only thread ends with the process).
struct HotBlocks {
  SizeClassRing rings[kClasses + 1];
};

thread_local HotBlocks hot;

inline size_t ClassOf(size_t n) { return (n + kGranule - 1) / kGranule; }

void* Allocate(size_t n) {
  if (n <= kClasses * kGranule) {
    const size_t c = ClassOf(n);
    SizeClassRing& r = hot.rings[c];
    if (r.count > 0) {
      --r.count;
      return r.blocks[--r.top % kKept];
    }
    n = c * kGranule;  // every block of a class can serve any size of it
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

void Release(void* p, size_t n) {
  if (p == nullptr) return;
  if (n > kClasses * kGranule) {
    std::free(p);
    return;
  }
  SizeClassRing& r = hot.rings[ClassOf(n)];
  if (r.count == kKept) {
    std::free(r.blocks[(r.top - kKept) % kKept]);  // the oldest
    --r.count;
  }
  r.blocks[r.top++ % kKept] = p;
  ++r.count;
}

}  // namespace

void* operator new(size_t n) { return Allocate(n); }
void* operator new[](size_t n) { return Allocate(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return Allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t n) noexcept { Release(p, n); }
void operator delete[](void* p, size_t n) noexcept { Release(p, n); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
