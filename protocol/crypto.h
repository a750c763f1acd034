// Keys and cryptographic operations of a run.
//
// REAL mode computes Ed25519 signatures and HMAC-SHA256 tags through OpenSSL EVP. FAST mode
// substitutes keyed 64-bit-mixing tags of the same length: an actor that only holds its own key
// (see Identity) still cannot produce another principal's tag, but nothing expensive is computed.
// Digests that messages carry or compare (batches, checkpoints, state, a proposal's signed header)
// are SHA-256 in both modes. The digest an authenticator covers (a message body's, see BodyDigest)
// is SHA-256 in REAL mode and a fast 256-bit hash in FAST mode: nothing but that mode's tags reads
// it. So message contents, sizes, simulated CPU cost (charged per byte hashed, whatever computes
// it) and therefore results and trace digest are identical across modes; only wall time differs.
//
// All keys are derived deterministically from the run's seed and the principal's node id.
#ifndef GEOPBFT_PROTOCOL_CRYPTO_H_
#define GEOPBFT_PROTOCOL_CRYPTO_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "protocol/types.h"

namespace geopbft {

enum class CryptoMode { kFast, kReal };

inline constexpr size_t kSignatureSize = 64;  // Ed25519
inline constexpr size_t kMacSize = 32;        // HMAC-SHA256

// SHA-256 of arbitrary bytes (OpenSSL EVP).
Digest Sha256(std::string_view data);

// A 256-bit non-cryptographic hash of arbitrary bytes (two 64-bit multiply-fold lanes, expanded):
// FAST mode's body digest. Any change of the bytes changes it with overwhelming probability, which
// is all a FAST tag needs: no actor in the simulator searches for collisions. Why: a default run
// seals a million replies of one SHA-256 block each, and hashing them was a tenth of its time.
Digest FastDigest(std::string_view data);

// The digest a signature or MAC over these body bytes covers: SHA-256 in REAL mode, FastDigest in
// FAST mode (whose tags are not cryptographic either).
Digest BodyDigest(std::string_view bytes, CryptoMode mode);

class KeyRing {
 public:
  KeyRing(uint64_t seed, CryptoMode mode);
  ~KeyRing();
  KeyRing(const KeyRing&) = delete;
  KeyRing& operator=(const KeyRing&) = delete;

  CryptoMode mode() const { return mode_; }
  Digest BodyDigest(std::string_view bytes) const { return geopbft::BodyDigest(bytes, mode_); }

  std::string Sign(NodeId signer, const Digest& d) const;
  bool Verify(NodeId signer, const Digest& d, std::string_view signature) const;
  std::string Mac(NodeId from, NodeId to, const Digest& d) const;
  // Writes the kMacSize-byte tag to `out` (authenticators are built in one buffer).
  void MacInto(NodeId from, NodeId to, const Digest& d, char* out) const;
  bool VerifyMac(NodeId from, NodeId to, const Digest& d, std::string_view tag) const;

 private:
  struct EdKey;
  const EdKey& KeyOf(NodeId who) const;
  // FAST mode: a principal's secret (every MAC and tag check needs two: kept in a flat table).
  uint64_t FastSecret(NodeId who) const {
    if (who < fast_secrets_.size() && fast_secrets_[who] != 0) return fast_secrets_[who];
    return DeriveFastSecret(who);
  }
  uint64_t DeriveFastSecret(NodeId who) const;
  // FAST mode: the secret two nodes share for MACs.
  uint64_t FastPairSecret(NodeId from, NodeId to) const {
    const uint64_t a = FastSecret(std::min(from, to)), b = FastSecret(std::max(from, to));
    return Mix64(a ^ (b * 0x9e3779b97f4a7c15ULL));
  }
  std::string PairKey(NodeId a, NodeId b) const;
  struct MacContext;
  MacContext& MacContextOf(NodeId a, NodeId b) const;

  uint64_t seed_;
  CryptoMode mode_;
  // Lazily derived per-principal keys (a run with 1,000 replicas only derives what it uses).
  mutable std::vector<std::unique_ptr<EdKey>> ed_keys_;
  mutable std::vector<uint64_t> fast_secrets_;  // by node id; 0: not derived yet (or a zero secret)
  // REAL mode: identical (signer, digest, signature) triples verified before. A certificate
  // forwarded to many replicas is verified with OpenSSL once. Pure cache: it never changes a result.
  mutable absl::flat_hash_set<std::string> verified_;
  // REAL mode: one keyed HMAC context per pair of principals that talk, re-initialized per tag
  // (key schedule done once). Looked up only, never iterated.
  mutable absl::flat_hash_map<uint64_t, std::unique_ptr<MacContext>> mac_contexts_;
};

// What one actor may do with keys: sign and MAC as itself only, verify anyone. A Byzantine
// behaviour receives the Identity of its own replica, so it cannot forge another's signature.
class Identity {
 public:
  Identity(const KeyRing* keys, NodeId self) : keys_(keys), self_(self) {}
  NodeId self() const { return self_; }
  const KeyRing* keys() const { return keys_; }
  CryptoMode mode() const { return keys_->mode(); }
  Digest BodyDigest(std::string_view bytes) const { return keys_->BodyDigest(bytes); }
  std::string Sign(const Digest& d) const { return keys_->Sign(self_, d); }
  std::string MacFor(NodeId to, const Digest& d) const { return keys_->Mac(self_, to, d); }
  void MacInto(NodeId to, const Digest& d, char* out) const { keys_->MacInto(self_, to, d, out); }
  bool Verify(NodeId signer, const Digest& d, std::string_view sig) const { return keys_->Verify(signer, d, sig); }
  bool VerifyMacFrom(NodeId from, const Digest& d, std::string_view tag) const {
    return keys_->VerifyMac(from, self_, d, tag);
  }

 private:
  const KeyRing* keys_;
  NodeId self_;
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_CRYPTO_H_
