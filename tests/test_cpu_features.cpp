// CPU feature detection and kernel-set selection.
#include <doctest/doctest.h>

#include <string>

#include "cpu_features.hpp"
#include "error.hpp"
#include "kernel_dispatch.hpp"

using namespace tinception;

TEST_CASE("features imply their prerequisites") {
    const kernels::CpuFeatures& f = kernels::cpu_features();
    if (f.avx512f) CHECK(f.avx2);
    if (f.avx512bw || f.avx512vnni) CHECK(f.avx512f);
    CHECK_FALSE(kernels::describe(f).empty());
    MESSAGE("cpu features: " << kernels::describe(f));
}

TEST_CASE("kernel sets: reference and eigen always, unknown names refused") {
    const auto tables = available_kernel_tables();
    REQUIRE(tables.size() >= 2);
    CHECK(std::string(tables[0]->isa_name) == "reference");
    CHECK(std::string(tables[1]->isa_name) == "eigen");
    CHECK(std::string(kernel_table_named("reference").isa_name) == "reference");
    CHECK_THROWS_AS(kernel_table_named("sse9"), Error);
    std::string ran;
    for (const auto* t : tables) ran += std::string(t->isa_name) + " ";
    MESSAGE("kernel sets available here: " << ran);
}
