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

namespace {

// Of `tables` (slowest first, the reference first), the one matching active_kernels().
template <typename Table>
const Table& matching_active(const std::vector<const Table*>& tables) {
    const std::string active = active_kernels().isa_name;
    for (const Table* t : tables)
        if (active == t->isa_name) return *t;
    return active == "reference" ? *tables.front() : *tables.back();
}

}  // namespace

const kernels::BackwardKernelTable& active_backward_kernels() {
    static const kernels::BackwardKernelTable& chosen = [] () -> const kernels::BackwardKernelTable& {
        const kernels::BackwardKernelTable* tables[3];
        const int count = kernels::available_backward_tables(tables);
        return matching_active(std::vector<const kernels::BackwardKernelTable*>(tables, tables + count));
    }();
    return chosen;
}

const kernels::Int8KernelTable& active_int8_kernels() {
    static const kernels::Int8KernelTable& chosen = [] () -> const kernels::Int8KernelTable& {
        std::vector<const kernels::Int8KernelTable*> tables{&kernels::reference_int8_kernels()};
        if (const kernels::Int8KernelTable* t = kernels::avx2_int8_kernels()) tables.push_back(t);
        // Under the avx512 forward table (no int8 table of that name): VNNI where the CPU has it.
        if (const kernels::Int8KernelTable* t = kernels::avx512_vnni_int8_kernels()) tables.push_back(t);
        return matching_active(tables);
    }();
    return chosen;
}

}  // namespace tinception
