/* Classifies one image with a model trained by `tinception train`, through the C API only.
 * The library takes pixels, not files, so the image is decoded here with stb_image.
 *
 *   cc classify.c $(pkg-config --cflags --libs --static tinception stb) -o classify
 *   ./classify model.tcm picture.jpg [weights.tcw]
 *
 * Prints every label, best first, as `label (score = 0.12345)`. Exit status: 0 on success,
 * 2 for bad usage or an undecodable image, 1 when the library reports a failure. */
#include <stdio.h>
#include <stdlib.h>

#include <stb_image.h>
#include <tinception.h>

static int fail(const char* what, tinception_status status) {
    fprintf(stderr, "classify: %s: %s: %s\n", what, tinception_status_name(status), tinception_last_error());
    return 1;
}

int main(int argc, char** argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s MODEL.tcm IMAGE [WEIGHTS.tcw]\n", argv[0]);
        return 2;
    }
    int width = 0, height = 0, channels = 0;
    unsigned char* pixels = stbi_load(argv[2], &width, &height, &channels, 3); /* forced to RGB */
    if (!pixels) {
        fprintf(stderr, "classify: %s: cannot decode: %s\n", argv[2], stbi_failure_reason());
        return 2;
    }

    int exit_code = 1;
    tinception_model* model = NULL;
    tinception_context* context = NULL;
    float* scores = NULL;
    tinception_status status = tinception_model_load(argv[1], argc == 4 ? argv[3] : NULL, &model);
    if (status != TINCEPTION_OK) {
        exit_code = fail("loading the model", status);
        goto done;
    }
    status = tinception_context_create(model, &context);
    if (status != TINCEPTION_OK) {
        exit_code = fail("creating a context", status);
        goto done;
    }
    const size_t labels = tinception_model_label_count(model);
    scores = malloc(labels * sizeof *scores);
    if (!scores) {
        fprintf(stderr, "classify: out of memory\n");
        goto done;
    }
    status = tinception_classify(context, pixels, width, height, (size_t)width * 3, TINCEPTION_RGB8, scores, labels);
    if (status != TINCEPTION_OK) {
        exit_code = fail(argv[2], status);
        goto done;
    }
    /* Best first: repeatedly take the top score and knock it out. */
    for (size_t printed = 0; printed < labels; ++printed) {
        const size_t best = tinception_top_index(scores, labels);
        printf("%s (score = %.5f)\n", tinception_model_label(model, best), scores[best]);
        scores[best] = -1.0f;
    }
    exit_code = 0;

done:
    free(scores);
    tinception_context_destroy(context);
    tinception_model_destroy(model);
    stbi_image_free(pixels);
    return exit_code;
}
