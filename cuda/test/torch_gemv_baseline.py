# What cuBLAS (through PyTorch) reaches on a decode-sized GEMV with its weights rotated out of L2:
# a second opinion on the int4 GEMV's figures (same bytes: 8.4 MB ≈ a 4096x4096 int4 weight).
# Run by cuda/run-on-gpu.sh where python3 has torch with CUDA:  python3 cuda/test/torch_gemv_baseline.py
import torch
torch.backends.cuda.matmul.allow_tf32 = False
dev = 'cuda'
print(torch.__version__, torch.cuda.get_device_name(0))
def bench(rows, cols, dtype, copies=24, reps=200):
    ws = [torch.randn(rows, cols, device=dev, dtype=dtype) for _ in range(copies)]
    x = torch.randn(cols, device=dev, dtype=dtype)
    for i in range(20): torch.mv(ws[i % copies], x)
    torch.cuda.synchronize()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s.record()
    for i in range(reps): torch.mv(ws[i % copies], x)
    e.record(); torch.cuda.synchronize()
    us = s.elapsed_time(e) * 1000 / reps
    b = rows * cols * ws[0].element_size()
    print(f"torch.mv {dtype} {rows}x{cols} ({b/1e6:.1f} MB, {copies} copies): {us:.2f} us, {b/us/1e3:.0f} GB/s")
bench(4096, 1024, torch.float16)   # 8.4 MB, the bytes of a 4096x4096 int4 weight
bench(2560, 1728, torch.float16)   # 8.8 MB, the bytes of a 2560x6912 int4 weight
bench(4096, 4096, torch.float16)   # 33.6 MB
bench(6912, 2560, torch.float16)   # 35.4 MB (the f16 weight itself)
bench(14336, 4096, torch.float16, copies=8)  # 117 MB
a = torch.empty(512 * 2**20 // 2, device=dev, dtype=torch.float16); b = torch.empty_like(a)
for _ in range(3): b.copy_(a)
torch.cuda.synchronize(); s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
s.record(); [b.copy_(a) for _ in range(20)]; e.record(); torch.cuda.synchronize()
print(f"copy 512 MiB: {2*512*2**20*20/(s.elapsed_time(e)/1e3)/1e9:.0f} GB/s (read+write)")
