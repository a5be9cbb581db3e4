/* sim_rng.h — the simulator's PRNG: xoshiro256** seeded through splitmix64.
 * Small, fast, and the same on every platform, so runs replay exactly. */
#ifndef SYNACK_SIM_RNG_H
#define SYNACK_SIM_RNG_H

#include <stdint.h>

typedef struct sim_rng {
    uint64_t s[4];
} sim_rng;

static inline uint64_t sim_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Seed from (seed, stream): distinct streams give unrelated sequences. */
static inline void sim_rng_seed(sim_rng *r, uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ull);
    for (int i = 0; i < 4; i++)
        r->s[i] = sim_splitmix64(&x);
}

static inline uint64_t sim_rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t sim_rng_next(sim_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = sim_rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = sim_rotl64(s[3], 45);
    return result;
}

/* Uniform in [0, 1). */
static inline double sim_rng_unit(sim_rng *r) {
    return (double)(sim_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* True with probability p (p <= 0 never draws, so an unimpaired link
 * consumes no randomness). */
static inline int sim_rng_chance(sim_rng *r, double p) {
    if (p <= 0.0)
        return 0;
    return sim_rng_unit(r) < p;
}

/* Uniform in [0, n); n > 0. */
static inline uint64_t sim_rng_below(sim_rng *r, uint64_t n) {
    return sim_rng_next(r) % n;
}

#endif
