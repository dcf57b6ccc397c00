// Which images of a data folder one task of a job array computes: shard I of N, chosen by
// the split hash of the path inside the data folder, so every node agrees without talking
// and adding images never moves old ones to another shard. Does no I/O.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace tinception {

struct Shard {
    std::uint32_t index = 0;  // in [0, count)
    std::uint32_t count = 1;
};

// The shard (of `count`) a path relative to the data folder ("label/file") belongs to: the
// high 32 bits of split_hash (dataset.hpp) scaled to [0, count). The split uses the hash
// modulo 10^6, so the high bits keep shards and splits independent of each other.
std::uint32_t shard_of(const std::string& relative_path, std::uint32_t count);

// The paths of `relative_paths` whose shard is `shard`, in their given order.
std::vector<std::string> paths_in_shard(const std::vector<std::string>& relative_paths, const Shard& shard);

// Reads "I/N" (0 <= I < N) or "auto/N", where I comes from SLURM_ARRAY_TASK_ID or else
// JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs). N is never taken from the environment:
// re-running one task of an array gives it a task count of 1. `lookup` reads a variable
// (null when unset); std::getenv by default. Throws Error on anything else.
Shard parse_shard(const std::string& text,
                  const std::function<const char*(const char*)>& lookup = [](const char* name) {
                      return static_cast<const char*>(std::getenv(name));
                  });

}  // namespace tinception
