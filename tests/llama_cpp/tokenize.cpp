// Tokenizes a file line by line with llama.cpp's own tokenizer, from a vocabulary-only GGUF.
//
//   tokenize VOCAB.gguf INPUT.txt PARSE_SPECIAL(0|1) > ids.txt
//
// Prints one line per input line (without its newline): the ids separated by spaces. No tokens
// are added around a line (add_special=false); PARSE_SPECIAL=1 lets special-token text become
// control ids.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "llama.h"

static void quiet(enum ggml_log_level level, const char * text, void *) {
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

int main(int argc, char ** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s VOCAB.gguf INPUT.txt PARSE_SPECIAL(0|1)\n", argv[0]);
        return 2;
    }
    llama_log_set(quiet, nullptr);
    llama_model_params params = llama_model_default_params();
    params.vocab_only = true;
    llama_model * model = llama_model_load_from_file(argv[1], params);
    if (model == nullptr) {
        fprintf(stderr, "error: cannot load %s\n", argv[1]);
        return 1;
    }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    const bool parse_special = std::string(argv[3]) == "1";
    std::ifstream input(argv[2], std::ios::binary);
    if (!input) {
        fprintf(stderr, "error: cannot read %s\n", argv[2]);
        return 1;
    }
    std::string line;
    std::vector<llama_token> ids;
    while (std::getline(input, line)) {
        ids.resize(line.size() + 16);
        int32_t n = llama_tokenize(vocab, line.data(), (int32_t) line.size(), ids.data(), (int32_t) ids.size(), false, parse_special);
        if (n < 0) {
            ids.resize(-n);
            n = llama_tokenize(vocab, line.data(), (int32_t) line.size(), ids.data(), (int32_t) ids.size(), false, parse_special);
        }
        for (int32_t i = 0; i < n; i++) {
            if (i) std::cout << ' ';
            std::cout << ids[i];
        }
        std::cout << '\n';
    }
    llama_model_free(model);
    return 0;
}
