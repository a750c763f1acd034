#include "protocol/crypto.h"

// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, but they are the same
// code without EVP's per-call provider dispatch and context reset, which cost as much as hashing
// a small message (most messages here are under one 64-byte block).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <bit>
#include <cstring>
#include <stdexcept>

#include "absl/strings/str_cat.h"

namespace geopbft {
namespace {

std::string Derive(std::string_view label, uint64_t seed, uint64_t a, uint64_t b = 0) {
  std::string material =
      absl::StrCat("geopbft/", absl::string_view(label.data(), label.size()), "/", seed, "/", a, "/", b);
  Digest d = Sha256(material);
  return std::string(d.view());
}

// FAST-mode tag: a keyed mix of the digest, expanded to `len` bytes.
uint64_t FastTagSeed(uint64_t secret, const Digest& d) {
  // The digest is a SHA-256 output: its words need no mixing among themselves, only folding (with
  // rotations, so that no two words cancel by position), then one keyed mix. (Every delivered
  // message is checked this way: four chained mixes cost more than the rest of a vote's check.)
  uint64_t w[4];
  std::memcpy(w, d.bytes.data(), sizeof w);
  return Mix64(secret ^ w[0] ^ std::rotl(w[1], 16) ^ std::rotl(w[2], 32) ^ std::rotl(w[3], 48));
}

// Word i of a tag whose seed is h: an odd multiplier makes each word a bijection of the keyed seed.
inline uint64_t FastTagWord(uint64_t h, size_t i) { return (h ^ (i * 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL; }

std::string FastTag(uint64_t secret, const Digest& d, size_t len) {
  const uint64_t h = FastTagSeed(secret, d);
  std::string out(len, '\0');
  for (size_t i = 0; i < len; i += 8) {
    uint64_t w = FastTagWord(h, i);
    std::memcpy(out.data() + i, &w, 8);
  }
  return out;
}

// Checks a FAST tag word by word, without building the expected one (every delivered message is
// checked: the allocation would cost more than the check).
bool FastTagMatches(uint64_t secret, const Digest& d, std::string_view tag, size_t len) {
  if (tag.size() != len) return false;
  const uint64_t h = FastTagSeed(secret, d);
  for (size_t i = 0; i < len; i += 8) {
    uint64_t got;
    std::memcpy(&got, tag.data() + i, 8);
    if (FastTagWord(h, i) != got) return false;
  }
  return true;
}

// The algorithm handle fetched once: implicit fetching on every call costs more than a MAC of a
// small message.
EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

}  // namespace

Digest Sha256(std::string_view data) {
  Digest d;
  SHA256_CTX ctx;
  if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, data.data(), data.size()) != 1 ||
      SHA256_Final(d.bytes.data(), &ctx) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return d;
}

namespace {
// The high and low halves of a 64 x 64-bit product, folded: each output bit depends on many input bits.
inline uint64_t MulFold(uint64_t a, uint64_t b) {
  const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}
inline uint64_t Word(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
}  // namespace

Digest FastDigest(std::string_view data) {
  // Two lanes take each 16-byte block, paired and keyed differently, each chained on its state.
  constexpr uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL, k2 = 0x8ebc6af09c88c6e3ULL,
                     k3 = 0x589965cc75374cc3ULL;
  uint64_t a = k0 ^ data.size(), b = k3 ^ (data.size() * k1);
  const char* p = data.data();
  size_t n = data.size();
  for (; n >= 16; p += 16, n -= 16) {
    const uint64_t w0 = Word(p), w1 = Word(p + 8);
    a = MulFold(w0 ^ k1 ^ a, w1 ^ k2);
    b = MulFold(w1 ^ k3 ^ b, w0 ^ k0);
  }
  // The last 0-15 bytes, read as whole words without copying them (most bodies are one or two
  // blocks, and a variable-length copy was a library call): overlapping the block before when
  // there is one, else from both ends of the input. Every byte is read, and the length is mixed
  // in, so two inputs of one length that differ anywhere give different words.
  uint64_t w0 = 0, w1 = 0;
  const char* end = data.data() + data.size();
  if (n > 0 && data.size() >= 16) {
    w0 = Word(end - 16), w1 = Word(end - 8);
  } else if (n >= 8) {
    w0 = Word(p), w1 = Word(end - 8);
  } else if (n >= 4) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, end - 4, 4);
    w0 = (uint64_t{hi} << 32) | lo;
  } else if (n > 0) {
    w0 = uint64_t{static_cast<uint8_t>(p[0])} | uint64_t{static_cast<uint8_t>(p[n / 2])} << 8 |
         uint64_t{static_cast<uint8_t>(p[n - 1])} << 16;
  }
  a = MulFold(w0 ^ k1 ^ a, w1 ^ k2 ^ n);
  b = MulFold(w1 ^ k3 ^ b, w0 ^ k0 ^ (n << 32));
  Digest d;
  const uint64_t out[4] = {Mix64(a), Mix64(b ^ k1), Mix64(a + b * k2), Mix64(a ^ std::rotl(b, 23) ^ k3)};
  std::memcpy(d.bytes.data(), out, sizeof out);
  return d;
}

Digest BodyDigest(std::string_view bytes, CryptoMode mode) {
  return mode == CryptoMode::kFast ? FastDigest(bytes) : Sha256(bytes);
}

// An Ed25519 key with signing and verifying contexts initialized once; each operation works on a
// copy, which skips the algorithm fetch and key setup that dominate a fresh initialization.
struct KeyRing::EdKey {
  EVP_PKEY* pkey = nullptr;
  EVP_MD_CTX* sign_template = nullptr;
  EVP_MD_CTX* verify_template = nullptr;
  EVP_MD_CTX* work = nullptr;
  uint64_t fast_secret = 0;
  ~EdKey() {
    EVP_MD_CTX_free(sign_template);
    EVP_MD_CTX_free(verify_template);
    EVP_MD_CTX_free(work);
    EVP_PKEY_free(pkey);
  }
};

struct KeyRing::MacContext {
  EVP_MAC_CTX* ctx = nullptr;
  ~MacContext() { EVP_MAC_CTX_free(ctx); }
};

KeyRing::MacContext& KeyRing::MacContextOf(NodeId a, NodeId b) const {
  if (a > b) std::swap(a, b);
  auto& slot = mac_contexts_[(uint64_t{a} << 32) | b];
  if (!slot) {
    slot = std::make_unique<MacContext>();
    std::string key = PairKey(a, b);
    char digest_name[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                           OSSL_PARAM_construct_end()};
    slot->ctx = EVP_MAC_CTX_new(HmacAlgorithm());
    if (slot->ctx == nullptr ||
        EVP_MAC_init(slot->ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) != 1) {
      throw std::runtime_error("HMAC-SHA256 key setup failed");
    }
  }
  return *slot;
}

KeyRing::KeyRing(uint64_t seed, CryptoMode mode) : seed_(seed), mode_(mode) {}
KeyRing::~KeyRing() = default;

const KeyRing::EdKey& KeyRing::KeyOf(NodeId who) const {
  if (who >= ed_keys_.size()) ed_keys_.resize(who + 1);
  auto& slot = ed_keys_[who];
  if (!slot) {
    slot = std::make_unique<EdKey>();
    std::string secret = Derive("ed25519", seed_, who);
    std::memcpy(&slot->fast_secret, secret.data(), 8);
    if (mode_ == CryptoMode::kReal) {
      slot->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                                reinterpret_cast<const unsigned char*>(secret.data()), 32);
      slot->sign_template = EVP_MD_CTX_new();
      slot->verify_template = EVP_MD_CTX_new();
      slot->work = EVP_MD_CTX_new();
      if (slot->pkey == nullptr || !slot->sign_template || !slot->verify_template || !slot->work ||
          EVP_DigestSignInit(slot->sign_template, nullptr, nullptr, nullptr, slot->pkey) != 1 ||
          EVP_DigestVerifyInit(slot->verify_template, nullptr, nullptr, nullptr, slot->pkey) != 1) {
        throw std::runtime_error("Ed25519 key derivation failed");
      }
    }
  }
  return *slot;
}

uint64_t KeyRing::DeriveFastSecret(NodeId who) const {
  const uint64_t secret = KeyOf(who).fast_secret;
  if (who >= fast_secrets_.size()) fast_secrets_.resize(who + 1, 0);
  fast_secrets_[who] = secret;
  return secret;
}

std::string KeyRing::PairKey(NodeId a, NodeId b) const {
  if (a > b) std::swap(a, b);
  return Derive("hmac", seed_, a, b);
}

std::string KeyRing::Sign(NodeId signer, const Digest& d) const {
  const EdKey& key = KeyOf(signer);
  if (mode_ == CryptoMode::kFast) return FastTag(key.fast_secret, d, kSignatureSize);
  std::string sig(kSignatureSize, '\0');
  size_t len = sig.size();
  bool ok =
      EVP_MD_CTX_copy_ex(key.work, key.sign_template) == 1 &&
      EVP_DigestSign(key.work, reinterpret_cast<unsigned char*>(sig.data()), &len, d.bytes.data(), d.bytes.size()) == 1;
  if (!ok || len != kSignatureSize) throw std::runtime_error("Ed25519 sign failed");
  return sig;
}

bool KeyRing::Verify(NodeId signer, const Digest& d, std::string_view signature) const {
  if (signature.size() != kSignatureSize) return false;
  if (mode_ == CryptoMode::kFast) return FastTagMatches(FastSecret(signer), d, signature, kSignatureSize);
  const EdKey& key = KeyOf(signer);
  std::string memo = absl::StrCat(signer, ":");
  memo.append(d.view());
  memo.append(signature);
  if (verified_.contains(memo)) return true;
  bool ok = EVP_MD_CTX_copy_ex(key.work, key.verify_template) == 1 &&
            EVP_DigestVerify(key.work, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             d.bytes.data(), d.bytes.size()) == 1;
  if (ok) {
    // Bounded memo: forget everything now and then rather than grow with the run.
    if (verified_.size() > (1u << 20)) verified_.clear();
    verified_.insert(std::move(memo));
  }
  return ok;
}

std::string KeyRing::Mac(NodeId from, NodeId to, const Digest& d) const {
  std::string tag(kMacSize, '\0');
  MacInto(from, to, d, tag.data());
  return tag;
}

void KeyRing::MacInto(NodeId from, NodeId to, const Digest& d, char* out) const {
  if (mode_ == CryptoMode::kFast) {
    const uint64_t h = FastTagSeed(FastPairSecret(from, to), d);
    for (size_t i = 0; i < kMacSize; i += 8) {
      const uint64_t w = FastTagWord(h, i);
      std::memcpy(out + i, &w, 8);
    }
    return;
  }
  EVP_MAC_CTX* ctx = MacContextOf(from, to).ctx;
  size_t len = 0;
  // Re-initializing with a null key keeps the key schedule computed once for this pair.
  if (EVP_MAC_init(ctx, nullptr, 0, nullptr) != 1 || EVP_MAC_update(ctx, d.bytes.data(), d.bytes.size()) != 1 ||
      EVP_MAC_final(ctx, reinterpret_cast<unsigned char*>(out), &len, kMacSize) != 1 || len != kMacSize) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
}

bool KeyRing::VerifyMac(NodeId from, NodeId to, const Digest& d, std::string_view tag) const {
  if (tag.size() != kMacSize) return false;
  if (mode_ == CryptoMode::kFast) return FastTagMatches(FastPairSecret(from, to), d, tag, kMacSize);
  return Mac(from, to, d) == tag;
}

}  // namespace geopbft
