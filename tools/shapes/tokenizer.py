"""The vila-shapes tokenizer: a SentencePiece BPE model trained like Llama's tokenizer.model (byte
fallback, split digits, identity normalisation, dummy prefix) on the texts the model will see."""
import os
import shutil
import subprocess
import tempfile


def train_tokenizer(texts, out_path: str, vocab: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "corpus.txt"), "w") as f:
            for t in texts:
                f.write(t.replace("\n", " ") + "\n")
        cmd = [
            "spm_train", "--input=corpus.txt", "--model_prefix=tokenizer", "--model_type=bpe",
            f"--vocab_size={vocab}", "--character_coverage=1.0", "--num_threads=1",
            "--byte_fallback=true", "--split_digits=true", "--allow_whitespace_only_pieces=true",
            "--normalization_rule_name=identity", "--remove_extra_whitespaces=false",
            "--add_dummy_prefix=true", "--shuffle_input_sentence=false", "--hard_vocab_limit=false",
            "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1", "--minloglevel=2",
        ]
        if shutil.which("spm_train"):  # Debian's sentencepiece (the recipe's)
            subprocess.run(cmd, cwd=tmp, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:  # the same options through the Python package (machines without the command, e.g. sweep_gpu.sh's)
            import sentencepiece as spm
            cwd = os.getcwd()
            os.chdir(tmp)
            try:
                spm.SentencePieceTrainer.train(" ".join(cmd[1:]))
            finally:
                os.chdir(cwd)
        shutil.copyfile(os.path.join(tmp, "tokenizer.model"), out_path)
