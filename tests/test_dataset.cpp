// Dataset scanning and the hash split: stability, _nohash_ grouping, and every bad layout.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "error.hpp"
#include "image/image.hpp"
#include "temp_dir.hpp"
#include "train/dataset.hpp"
#include "train/dataset_checks.hpp"
#include "train/hashing.hpp"

using namespace tinception;
using tinception::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// Scanning reads signatures and never decodes, so a JPEG's first three bytes make an image.
void touch(const fs::path& path) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << "\xFF\xD8\xFFnot decoded: " << path.string();  // unique bytes
}

void write_text(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

void add_images(const fs::path& root, const std::string& label, int first, int last) {
    for (int i = first; i < last; ++i) touch(root / label / ("img" + std::to_string(i) + ".jpg"));
}

std::map<std::string, Split> splits_of(const Dataset& d) {
    std::map<std::string, Split> out;
    for (const CategoryImages& c : d.categories) {
        for (const auto& p : c.training) out[p] = Split::training;
        for (const auto& p : c.validation) out[p] = Split::validation;
        for (const auto& p : c.testing) out[p] = Split::testing;
    }
    return out;
}

std::string error_of(const std::string& dir, const SplitOptions& options = {}) {
    try {
        scan_dataset(dir, options);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

bool any_contains(const std::vector<std::string>& lines, const std::string& part) {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(part) != std::string::npos; });
}

bool none_moved(const Dataset& d) { return !any_contains(d.warnings, "moved"); }

}  // namespace

TEST_CASE("FNV-1a 64 matches the published test values") {
    CHECK(fnv1a_64("") == 0xcbf29ce484222325ULL);
    CHECK(fnv1a_64("a") == 0xaf63dc4c8601ec8cULL);
    CHECK(fnv1a_64("foobar") == 0x85944171f73967e8ULL);
}

TEST_CASE("split percentages are in [0, 100) and roughly follow the flags") {
    int counts[3] = {0, 0, 0};
    for (int i = 0; i < 10000; ++i) {
        const std::string path = "cat/img" + std::to_string(i) + ".jpg";
        const double p = split_percentage(path);
        REQUIRE(p >= 0.0);
        REQUIRE(p < 100.0);
        ++counts[int(assign_split(path, {}))];
    }
    CHECK(counts[int(Split::validation)] > 800);
    CHECK(counts[int(Split::validation)] < 1200);
    CHECK(counts[int(Split::testing)] > 800);
    CHECK(counts[int(Split::testing)] < 1200);
}

TEST_CASE("adding images never moves old ones between splits") {
    TempDir dir;
    add_images(dir.path(), "cats", 0, 80);
    add_images(dir.path(), "dogs", 0, 80);
    const Dataset before = scan_dataset(dir.path().string());
    REQUIRE(none_moved(before));
    add_images(dir.path(), "cats", 80, 200);
    add_images(dir.path(), "dogs", 80, 150);
    add_images(dir.path(), "birds", 0, 50);
    const Dataset after = scan_dataset(dir.path().string());
    REQUIRE(none_moved(after));
    const auto old_splits = splits_of(before), new_splits = splits_of(after);
    CHECK(new_splits.size() == 80 + 80 + 200 - 80 + 150 - 80 + 50);
    for (const auto& [path, split] : old_splits) {
        CAPTURE(path);
        REQUIRE(new_splits.count(path) == 1);
        CHECK(new_splits.at(path) == split);
    }
    CHECK(after.labels == std::vector<std::string>{"birds", "cats", "dogs"});
}

TEST_CASE("the split does not depend on how the data folder is spelled") {
    TempDir dir;
    add_images(dir.path(), "a", 0, 40);
    add_images(dir.path(), "b", 0, 40);
    const fs::path saved = fs::current_path();
    fs::current_path(dir.path().parent_path());
    const std::string name = dir.path().filename().string();
    const auto reference = splits_of(scan_dataset(dir.path().string()));
    for (const std::string& spelling : {dir.path().string() + "/", dir.path().string() + "//", "./" + name,
                                       name, "./" + name + "/", dir.path().parent_path().string() + "/./" + name}) {
        CAPTURE(spelling);
        if (!fs::exists(spelling)) continue;
        const Dataset d = scan_dataset(spelling);
        CHECK(splits_of(d) == reference);
        CHECK(fs::exists(d.full_path(d.categories[0].training.front())));
    }
    fs::current_path(saved);
}

TEST_CASE("_nohash_ keeps all variants of one picture in one split") {
    CHECK(split_hash("cat/a_nohash_1.jpg") == split_hash("cat/a_nohash_2.png"));
    CHECK(split_hash("cat/a_nohash_1.jpg") == split_hash("cat/a"));
    CHECK(split_hash("cat/a_nohash_1.jpg") != split_hash("dog/a_nohash_1.jpg"));
    TempDir dir;
    for (int group = 0; group < 30; ++group)
        for (int v = 0; v < 4; ++v)
            touch(dir.path() / "x" / ("g" + std::to_string(group) + "_nohash_" + std::to_string(v) + ".jpg"));
    add_images(dir.path(), "y", 0, 40);
    const Dataset d = scan_dataset(dir.path().string());
    REQUIRE(none_moved(d));
    const auto splits = splits_of(d);
    for (int group = 0; group < 30; ++group) {
        const Split first = splits.at("x/g" + std::to_string(group) + "_nohash_0.jpg");
        for (int v = 1; v < 4; ++v)
            CHECK(splits.at("x/g" + std::to_string(group) + "_nohash_" + std::to_string(v) + ".jpg") == first);
    }
}

TEST_CASE("hidden files, non-images and nested folders are skipped with warnings") {
    TempDir dir;
    add_images(dir.path(), "a", 0, 30);
    add_images(dir.path(), "b", 0, 30);
    touch(dir.path() / "a" / ".DS_Store");
    touch(dir.path() / "a" / ".hidden.jpg");
    write_text(dir.path() / "a" / "notes.txt", "notes");
    write_text(dir.path() / "a" / "text named like a photo.jpg", "notes");
    touch(dir.path() / "a" / "UPPER.JPG");
    touch(dir.path() / "a" / "no extension");
    write_text(dir.path() / "a" / "portable.ppm", "P6\n4 4\n255\n");
    touch(dir.path() / "a" / "nested" / "deep.jpg");
    touch(dir.path() / ".git" / "x.jpg");
    touch(dir.path() / "README.md");
    fs::create_directory_symlink(dir.path(), dir.path() / "b" / "loop");  // must not hang
    const Dataset d = scan_dataset(dir.path().string());
    REQUIRE(d.labels == std::vector<std::string>{"a", "b"});
    CHECK(d.categories[0].size() == 33);  // UPPER.JPG, "no extension" and portable.ppm count, once each
    CHECK(d.categories[1].size() == 30);
    CHECK(any_contains(d.warnings, ".DS_Store: skipped, a hidden file"));
    CHECK(any_contains(d.warnings, ".hidden.jpg: skipped, a hidden file"));
    // The list is what this build decodes (none in the minimal build).
    CHECK(any_contains(d.warnings, "notes.txt: skipped, not a supported image (" + supported_image_formats() + ")"));
    CHECK(any_contains(d.warnings, "text named like a photo.jpg: skipped, not a supported image"));
    CHECK(any_contains(d.warnings, "nested: skipped, a nested folder"));
    CHECK(any_contains(d.warnings, "loop: skipped, a nested folder"));
    CHECK(any_contains(d.warnings, ".git: skipped, a hidden entry"));
    CHECK(any_contains(d.warnings, "README.md: skipped, not a category folder"));
}

TEST_CASE("bad layouts are refused with a message naming the folder") {
    TempDir dir;
    const std::string root = dir.path().string();
    CHECK(error_of(root + "/missing") == root + "/missing: data folder does not exist");
    touch(dir.path() / "file.jpg");
    CHECK(error_of(root + "/file.jpg") == root + "/file.jpg: data folder is not a folder");

    const std::string none = (dir.path() / "none").string();
    fs::create_directories(none);
    CHECK(error_of(none).find("found 0 category folders, need at least 2") != std::string::npos);

    const std::string one = (dir.path() / "one").string();
    add_images(one, "only", 0, 10);
    CHECK(error_of(one) == one + ": found 1 category folder, need at least 2 (one sub-folder of images per category)");

    const std::string empty = (dir.path() / "empty").string();
    add_images(empty, "full", 0, 10);
    fs::create_directories(fs::path(empty) / "hollow");
    write_text(fs::path(empty) / "hollow" / "readme.txt", "text");
    CHECK(error_of(empty) == empty + "/hollow: category 'hollow' has 0 usable images; each category needs at least 3 "
                                     "(one each for training, validation and testing)");

    const std::string single = (dir.path() / "single").string();
    add_images(single, "full", 0, 10);
    add_images(single, "lonely", 0, 1);
    CHECK(error_of(single) == single + "/lonely: category 'lonely' has 1 usable image; each category needs at least 3 "
                                       "(one each for training, validation and testing)");
    CHECK(error_of(single, {0, 0}) == single + "/lonely: category 'lonely' has 1 usable image; each category needs at least 2");

    const std::string two = (dir.path() / "two").string();
    add_images(two, "full", 0, 40);
    add_images(two, "pair", 0, 2);
    const std::string message = error_of(two);
    CHECK(message.find("category 'pair' has 2 usable images; each category needs at least 3") != std::string::npos);
    CHECK(error_of(two, {10, 0}).empty());  // two splits in use: 2 images are enough
    CHECK(message.find(two + "/pair") == 0);
}

TEST_CASE("an empty split is filled from training when the category has 3 or more images") {
    TempDir dir;
    add_images(dir.path(), "a", 0, 3);
    add_images(dir.path(), "b", 0, 3);
    const Dataset d = scan_dataset(dir.path().string());
    for (const CategoryImages& c : d.categories) {
        CHECK(c.training.size() == 1);
        CHECK(c.validation.size() == 1);
        CHECK(c.testing.size() == 1);
    }
    CHECK(any_contains(d.warnings, "split was empty, moved"));
    SplitOptions no_holdout;
    no_holdout.validation_percentage = 0;
    no_holdout.testing_percentage = 0;
    const Dataset all = scan_dataset(dir.path().string(), no_holdout);
    CHECK(all.categories[0].training.size() == 3);
}

TEST_CASE("a category whose images all hash into validation still gets training and testing images") {
    TempDir dir;
    add_images(dir.path(), "plenty", 0, 40);
    int found = 0;
    for (int i = 0; found < 3; ++i) {
        const std::string name = "v" + std::to_string(i) + ".png";
        if (assign_split("held/" + name, {}) != Split::validation) continue;
        touch(dir.path() / "held" / name);
        ++found;
    }
    const Dataset d = scan_dataset(dir.path().string());
    REQUIRE(d.labels == std::vector<std::string>{"held", "plenty"});
    const CategoryImages& held = d.categories[0];
    CHECK(held.training.size() == 1);
    CHECK(held.validation.size() == 1);
    CHECK(held.testing.size() == 1);
    CHECK(any_contains(d.warnings, "the training split was empty, moved"));
    CHECK(any_contains(d.warnings, "into it from validation"));
}

TEST_CASE("byte-identical images: counted once inside a category, warned about across categories") {
    TempDir dir;
    add_images(dir.path(), "a", 0, 30);
    add_images(dir.path(), "b", 0, 30);
    // Three copies of one picture in a.
    for (const char* name : {"same 1.jpg", "same 2.jpg", "same 3.jpg"}) write_text(dir.path() / "a" / name, "\xFF\xD8\xFF twin");
    // One picture in a and in b: an ambiguous label, kept in both.
    write_text(dir.path() / "a" / "shared.jpg", "\xFF\xD8\xFF shared");
    write_text(dir.path() / "b" / "shared too.jpg", "\xFF\xD8\xFF shared");
    // Same size as the twins, other bytes: not a copy.
    write_text(dir.path() / "b" / "lookalike.jpg", "\xFF\xD8\xFF twix");
    const Dataset d = scan_dataset(dir.path().string());
    CHECK(d.categories[0].size() == 30 + 1 + 1);
    CHECK(d.categories[1].size() == 30 + 1 + 1);
    const auto splits = splits_of(d);
    CHECK(splits.count("a/same 1.jpg") == 1);
    CHECK(splits.count("a/same 2.jpg") == 0);
    CHECK(splits.count("a/same 3.jpg") == 0);
    CHECK(any_contains(d.warnings, "same 2.jpg: skipped, byte-identical to a/same 1.jpg (counted once)"));
    CHECK(any_contains(d.warnings, "same 3.jpg: skipped, byte-identical to a/same 1.jpg (counted once)"));
    std::size_t ambiguous = 0;
    for (const std::string& w : d.warnings)
        ambiguous += w == "byte-identical images in different categories: a/shared.jpg, b/shared too.jpg; the label is ambiguous";
    CHECK(ambiguous == 1);
    CHECK(splits.count("a/shared.jpg") == 1);
    CHECK(splits.count("b/shared too.jpg") == 1);
    CHECK_FALSE(any_contains(d.warnings, "lookalike"));

    // A category that only copies make look big is refused by its usable count.
    TempDir small;
    add_images(small.path(), "full", 0, 10);
    for (int i = 0; i < 5; ++i) write_text(small.path() / "copies" / ("c" + std::to_string(i) + ".jpg"), "\xFF\xD8\xFF c");
    write_text(small.path() / "copies" / "other.jpg", "\xFF\xD8\xFF other");
    CHECK(error_of(small.path().string()).find("category 'copies' has 2 usable images") != std::string::npos);
}

TEST_CASE("advice: categories under 20 images, and strongly unbalanced ones unless classes are weighted") {
    TempDir dir;
    add_images(dir.path(), "big", 0, 60);
    add_images(dir.path(), "small", 0, 19);
    const Dataset d = scan_dataset(dir.path().string());
    const std::vector<std::string> advice = dataset_advice(d, false);
    CHECK(advice == std::vector<std::string>{
                        "category 'small' has 19 images; under 20 the model may be unreliable",
                        "categories are strongly unbalanced: 'big' has 60 images, 'small' 19 (3.2 times fewer); "
                        "--class-weights weights each category by its size"});
    CHECK(dataset_advice(d, true) == std::vector<std::string>{advice[0]});

    TempDir even;
    add_images(even.path(), "x", 0, 40);
    add_images(even.path(), "y", 0, 20);
    CHECK(dataset_advice(scan_dataset(even.path().string()), false).empty());  // 2 times: not strongly
}
