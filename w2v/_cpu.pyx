# cython: language_level=3
"""What the running CPU can execute, asked of the CPU itself.

Compiled for the baseline of its architecture (never ``-march=native``), so it
loads everywhere and can decide which build of the training core
(:mod:`w2v.isa`) this machine may run. On x86-64 with GCC or Clang it uses
``__builtin_cpu_supports``, which reads CPUID *and* checks that the operating
system saves the AVX / AVX-512 registers on a context switch (XGETBV): a CPU
flag alone is not enough, a hypervisor or kernel may leave the wide registers
switched off.
"""

cdef extern from *:
    """
    #if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    #define W2V_CPU_X86 1
    static int w2v_cpu_has(int which) {
        __builtin_cpu_init();
        switch (which) {
            /* __builtin_cpu_supports wants a string literal, hence the switch. */
            case 0: return __builtin_cpu_supports("sse2");
            case 1: return __builtin_cpu_supports("avx");
            case 2: return __builtin_cpu_supports("avx2");
            case 3: return __builtin_cpu_supports("fma");
            case 4: return __builtin_cpu_supports("avx512f");
            case 5: return __builtin_cpu_supports("avx512cd");
            case 6: return __builtin_cpu_supports("avx512bw");
            case 7: return __builtin_cpu_supports("avx512dq");
            case 8: return __builtin_cpu_supports("avx512vl");
        }
        return 0;
    }
    #else
    #define W2V_CPU_X86 0
    static int w2v_cpu_has(int which) { (void)which; return 0; }
    #endif
    """
    int W2V_CPU_X86
    int w2v_cpu_has(int which) nogil

#: The features :data:`w2v.isa.LEVELS` asks for, in the order ``w2v_cpu_has`` numbers them.
X86_FEATURES = ("sse2", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq",
                "avx512vl")


def features():
    """``{feature: bool}`` for :data:`X86_FEATURES` on an x86 CPU (built with GCC or Clang);
    an empty dict elsewhere, where only the one portable build of the core exists."""
    if not W2V_CPU_X86:
        return {}
    return {name: bool(w2v_cpu_has(k)) for k, name in enumerate(X86_FEATURES)}
