// Kernel table selection: the best table the CPU supports, unless TINCEPTION_ISA says.
#include "kernel_dispatch.hpp"

#include <cstdlib>

#include "error.hpp"

namespace tinception {

std::vector<const kernels::KernelTable*> available_kernel_tables() {
    std::vector<const kernels::KernelTable*> tables{&kernels::reference_kernels(), &eigen_kernels()};
    // Each SIMD table comes only when this build holds it and the CPU runs it.
    if (const kernels::KernelTable* t = kernels::avx2_kernels()) tables.push_back(t);
    if (const kernels::KernelTable* t = kernels::avx512_kernels()) tables.push_back(t);
    if (const kernels::KernelTable* t = kernels::neon_kernels()) tables.push_back(t);
    return tables;
}

const kernels::KernelTable& kernel_table_named(const std::string& name) {
    std::string known;
    for (const kernels::KernelTable* t : available_kernel_tables()) {
        if (name == t->isa_name) return *t;
        known += known.empty() ? "" : ", ";
        known += t->isa_name;
    }
    throw Error("kernel set '" + name + "' is not available on this machine (available: " + known +
                ")");
}

const kernels::KernelTable& active_kernels() {
    static const kernels::KernelTable& chosen = [&]() -> const kernels::KernelTable& {
        if (const char* forced = std::getenv("TINCEPTION_ISA"); forced && *forced)
            return kernel_table_named(forced);
        return *available_kernel_tables().back();
    }();
    return chosen;
}

}  // namespace tinception
