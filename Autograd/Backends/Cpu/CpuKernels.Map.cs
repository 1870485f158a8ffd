using System.Numerics;
using System.Runtime.Intrinsics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd.Backends.Cpu;

// Elementwise programs run chunk by chunk: every step of the program works on a chunk small enough that
// the chunk's intermediates stay in L1, so a program of five steps costs about one pass over memory.
internal sealed unsafe partial class CpuKernels<T>
{
    private const int Chunk = 512;

    [ThreadStatic] private static T[]? t_registers;

    public void Map(ElementwiseProgram program, ReadOnlySpan<Buffer<T>> inputs, Buffer<T> destination, bool accumulate)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (inputs.Length < program.InputCount)
            throw new ArgumentException($"Map: program '{program}' reads {program.InputCount} inputs, got {inputs.Length}.");
        int n = destination.Length;
        foreach (var b in inputs)
            if (b.Length != n) throw new ArgumentException($"Map: program '{program}' got an input of {b.Length} elements for a destination of {n}.");
        if (n == 0) return;
        if (n == 1)
        {
            // A scalar (graphs of scalar ops): evaluate the steps on values, no pinning, no chunks.
            MapScalar(program, inputs, [destination], [accumulate]);
            return;
        }

        // fixed (not a GC handle per buffer): the common case of up to four inputs pins for free.
        if (inputs.Length <= 4)
        {
            var i0 = inputs.Length > 0 ? inputs[0] : default;
            var i1 = inputs.Length > 1 ? inputs[1] : default;
            var i2 = inputs.Length > 2 ? inputs[2] : default;
            var i3 = inputs.Length > 3 ? inputs[3] : default;
            fixed (T* p0 = Win(i0), p1 = Win(i1), p2 = Win(i2), p3 = Win(i3), pd = Win(destination))
            {
                T** ptrs = stackalloc T*[4];
                ptrs[0] = p0; ptrs[1] = p1; ptrs[2] = p2; ptrs[3] = p3;
                T* d = pd;
                byte mode = SingleMode(program, accumulate);
                MapPinned(program, ptrs, &d, &mode, n);
            }
            return;
        }
        PinAndRun(program, inputs, [destination], [accumulate], single: true);
    }

    /// <summary>A one-element pass: every step on values, each result written (or added) to its destination.</summary>
    private static void MapScalar(ElementwiseProgram program, ReadOnlySpan<Buffer<T>> inputs, ReadOnlySpan<Buffer<T>> destinations, ReadOnlySpan<bool> accumulate)
    {
        var steps = program.Steps;
        Span<T> regs = steps.Count <= 32 ? stackalloc T[steps.Count] : new T[steps.Count];
        for (int i = 0; i < steps.Count; i++)
        {
            var s = steps[i];
            regs[i] = s.Op switch
            {
                ElementwiseOp.Input => S(inputs[s.Left])[0],
                ElementwiseOp.Constant => T.CreateTruncating(s.Value),
                _ => ScalarOp(s.Op, regs[s.Left], s.Right >= 0 ? regs[s.Right] : T.Zero),
            };
        }
        for (int j = 0; j < destinations.Length; j++)
        {
            ref T d = ref S(destinations[j])[0];
            T v = regs[program.Outputs[j]];
            d = accumulate[j] ? d + v : v;
        }
    }

    /// <summary>The buffer's elements; empty for an absent (default) input, which pins as null.</summary>
    private static Span<T> Win(Buffer<T> b) => b.Storage is null ? default : S(b);

    public void MapMany(ElementwiseProgram program, ReadOnlySpan<Buffer<T>> inputs, ReadOnlySpan<Buffer<T>> destinations, ReadOnlySpan<bool> accumulate)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (inputs.Length < program.InputCount)
            throw new ArgumentException($"MapMany: program '{program}' reads {program.InputCount} inputs, got {inputs.Length}.");
        if (destinations.Length != program.Outputs.Count || accumulate.Length != destinations.Length)
            throw new ArgumentException($"MapMany: program '{program}' has {program.Outputs.Count} outputs, got {destinations.Length} destinations and {accumulate.Length} accumulate flags.");
        int n = destinations.Length > 0 ? destinations[0].Length : 0;
        foreach (var b in inputs)
            if (b.Length != n) throw new ArgumentException($"MapMany: program '{program}' got an input of {b.Length} elements for destinations of {n}.");
        foreach (var b in destinations)
            if (b.Length != n) throw new ArgumentException($"MapMany: program '{program}' got destinations of {b.Length} and {n} elements.");
        if (n == 0) return;
        if (n == 1)
        {
            // Single-element storage holds its value inline (no array to pin): evaluate on values.
            MapScalar(program, inputs, destinations, accumulate);
            return;
        }
        PinAndRun(program, inputs, destinations, accumulate, single: false);
    }

    /// <summary>
    /// Pins every buffer (n &gt; 1, so each lies in an array; only single-element storage is held inline) and runs
    /// the pass; <paramref name="single"/>: a <see cref="Map"/> call, whose one destination may be an input.
    /// </summary>
    private static void PinAndRun(ElementwiseProgram program, ReadOnlySpan<Buffer<T>> inputs, ReadOnlySpan<Buffer<T>> destinations, ReadOnlySpan<bool> accumulate, bool single)
    {
        int n = destinations[0].Length;
        int ni = inputs.Length, no = destinations.Length;
        // GCHandle is unmanaged, so the pins live on the stack; a handle costs ~100 ns, nothing next to a pass.
        var handles = stackalloc System.Runtime.InteropServices.GCHandle[ni + no];
        T** ins = stackalloc T*[Math.Max(ni, 1)];
        T** outs = stackalloc T*[no];
        byte* mode = stackalloc byte[no];
        int pinned = 0;
        try
        {
            for (int i = 0; i < ni + no; i++)
            {
                var b = i < ni ? inputs[i] : destinations[i - ni];
                var array = ((HostStorage<T>)b.Storage).Array!;
                handles[pinned++] = System.Runtime.InteropServices.GCHandle.Alloc(array, System.Runtime.InteropServices.GCHandleType.Pinned);
                T* p = (T*)handles[pinned - 1].AddrOfPinnedObject() + b.Offset;
                if (i < ni) ins[i] = p;
                else outs[i - ni] = p;
            }
            for (int j = 0; j < no; j++)
                mode[j] = single ? SingleMode(program, accumulate[j]) : ManyMode(program, j, accumulate[j], ins, ni, outs, no, n);
            MapPinned(program, ins, outs, mode, n);
        }
        finally
        {
            for (int i = 0; i < pinned; i++) handles[i].Free();
        }
    }

    // How each result reaches its destination: copied after the chunk's steps, added after them, or written by
    // its step straight into the destination (no copy; only where nothing else can read or write that memory).
    private const byte Copied = 0, Added = 1, InPlace = 2;

    /// <summary>Map's one result: in place when it is the last step and overwrites (a destination equal to an input is fine then).</summary>
    private static byte SingleMode(ElementwiseProgram program, bool accumulate)
        => accumulate ? Added : program.Outputs[0] == program.Steps.Count - 1 && IsComputed(program, program.Steps.Count - 1) ? InPlace : Copied;

    private static bool IsComputed(ElementwiseProgram program, int step) => program.Steps[step].Op is not (ElementwiseOp.Input or ElementwiseOp.Constant);

    /// <summary>
    /// MapMany's result j: in place when it overwrites, is a computed step that no other result shares, and its
    /// destination neither overlaps an input (later steps may still read it) nor is another result's.
    /// </summary>
    private static byte ManyMode(ElementwiseProgram program, int j, bool accumulate, T** ins, int ni, T** outs, int no, int n)
    {
        if (accumulate) return Added;
        var outputs = program.Outputs;
        int step = outputs[j];
        if (!IsComputed(program, step)) return Copied;
        for (int k = 0; k < no; k++)
            if (k != j && (outputs[k] == step || outs[k] == outs[j])) return Copied;
        for (int i = 0; i < ni; i++)
            if (ins[i] < outs[j] + n && outs[j] < ins[i] + n) return Copied;
        return InPlace;
    }

    private static void MapPinned(ElementwiseProgram program, T** inputs, T** dsts, byte* mode, int n)
    {
        int chunks = (n + Chunk - 1) / Chunk;
        // Work, not length, decides: a fused program of twenty steps over 8k elements (an LSTM cell's backward at
        // batch 32) is worth a handoff that a single 8k-element add is not.
        long elementSteps = (long)n * program.Steps.Count;
        if (elementSteps >= ParallelThreshold && CpuParallel.Threads > 1 && chunks > 1)
        {
            var work = MapWork.Get();
            work.Set(program, inputs, dsts, mode, n, chunks);
            CpuParallel.Run(work, work.Parts);
            work.Clear();
        }
        else
        {
            MapRange(program, inputs, dsts, mode, 0, n);
        }
    }

    /// <summary>Evaluates the program over elements [start, end), writing (or adding) each output to its destination.</summary>
    private static void MapRange(ElementwiseProgram program, T** inputs, T** dsts, byte* mode, int start, int end)
    {
        var steps = program.Steps;
        var outputs = program.Outputs;
        int count = steps.Count;
        var regs = t_registers;
        if (regs is null || regs.Length < count * Chunk) t_registers = regs = new T[Math.Max(count, 8) * Chunk];
        T** at = stackalloc T*[count];
        T* scalar = stackalloc T[count];
        bool* isScalar = stackalloc bool[count];
        T** target = stackalloc T*[count]; // a step's destination when its result is written in place
        for (int i = 0; i < count; i++) target[i] = null;
        for (int j = 0; j < outputs.Count; j++)
            if (mode[j] == InPlace) target[outputs[j]] = dsts[j];
        fixed (T* scratch = regs)
        {
            for (int c = start; c < end; c += Chunk)
            {
                int len = Math.Min(Chunk, end - c);
                for (int i = 0; i < count; i++)
                {
                    var s = steps[i];
                    T* outp = target[i] != null ? target[i] + c : scratch + (nint)i * Chunk;
                    isScalar[i] = false;
                    switch (s.Op)
                    {
                        case ElementwiseOp.Input:
                            outp = inputs[s.Left] + c;
                            break;
                        case ElementwiseOp.Constant:
                            scalar[i] = T.CreateTruncating(s.Value);
                            isScalar[i] = true;
                            break;
                        default:
                            if (s.Right < 0) Unary(s.Op, isScalar[s.Left], scalar[s.Left], at[s.Left], outp, len, out isScalar[i], out scalar[i]);
                            else Binary(s.Op, isScalar[s.Left], scalar[s.Left], at[s.Left], isScalar[s.Right], scalar[s.Right], at[s.Right], outp, len, out isScalar[i], out scalar[i]);
                            break;
                    }
                    at[i] = outp;
                }
                // Outputs in order: a destination listed twice with the later one accumulating gets both.
                for (int j = 0; j < outputs.Count; j++)
                {
                    int o = outputs[j];
                    var d = new Span<T>(dsts[j] + c, len);
                    if (isScalar[o])
                    {
                        if (mode[j] == Added) TP.Add(d, scalar[o], d);
                        else d.Fill(scalar[o]);
                    }
                    else if (mode[j] == Added) TP.Add(d, new ReadOnlySpan<T>(at[o], len), d);
                    else if (mode[j] == Copied) new ReadOnlySpan<T>(at[o], len).CopyTo(d);
                }
            }
        }
    }

    private static void Unary(ElementwiseOp op, bool xScalar, T xs, T* x, T* y, int n, out bool scalar, out T value)
    {
        if (xScalar)
        {
            scalar = true;
            value = ScalarOp(op, xs, T.Zero);
            return;
        }
        scalar = false;
        value = T.Zero;
        var src = new ReadOnlySpan<T>(x, n);
        var dst = new Span<T>(y, n);
        switch (op)
        {
            case ElementwiseOp.Negate: TP.Negate(src, dst); break;
            case ElementwiseOp.Exp: TP.Exp(src, dst); break;
            case ElementwiseOp.Log: TP.Log(src, dst); break;
            case ElementwiseOp.Tanh: TP.Tanh(src, dst); break;
            case ElementwiseOp.Sigmoid: TP.Sigmoid(src, dst); break;
            case ElementwiseOp.Sqrt: TP.Sqrt(src, dst); break;
            case ElementwiseOp.Step: Step(x, y, n); break;
            default: throw new NotSupportedException($"Map: {op} is not a unary op.");
        }
    }

    private static void Binary(ElementwiseOp op, bool aScalar, T av, T* a, bool bScalar, T bv, T* b, T* y, int n, out bool scalar, out T value)
    {
        scalar = false;
        value = T.Zero;
        if (aScalar && bScalar)
        {
            scalar = true;
            value = ScalarOp(op, av, bv);
            return;
        }
        var d = new Span<T>(y, n);
        if (bScalar) BinaryScalar(op, new ReadOnlySpan<T>(a, n), bv, d, scalarLeft: false);
        else if (aScalar) BinaryScalar(op, new ReadOnlySpan<T>(b, n), av, d, scalarLeft: true);
        else BinarySpan(op, new ReadOnlySpan<T>(a, n), new ReadOnlySpan<T>(b, n), d);
    }

    /// <summary>One element of an op, for steps whose operands are all constants.</summary>
    internal static T ScalarOp(ElementwiseOp op, T a, T b) => op switch
    {
        ElementwiseOp.Add => a + b,
        ElementwiseOp.Subtract => a - b,
        ElementwiseOp.Multiply => a * b,
        ElementwiseOp.Divide => a / b,
        ElementwiseOp.Pow => T.Pow(a, b),
        ElementwiseOp.Max => T.IsNaN(a) || T.IsNaN(b) ? T.NaN : T.Max(a, b),
        ElementwiseOp.Min => T.IsNaN(a) || T.IsNaN(b) ? T.NaN : T.Min(a, b),
        ElementwiseOp.Negate => -a,
        ElementwiseOp.Exp => T.Exp(a),
        ElementwiseOp.Log => T.Log(a),
        ElementwiseOp.Tanh => T.Tanh(a),
        ElementwiseOp.Sigmoid => T.One / (T.One + T.Exp(-a)),
        ElementwiseOp.Sqrt => T.Sqrt(a),
        ElementwiseOp.Step => a > T.Zero ? T.One : T.Zero,
        _ => throw new NotSupportedException($"Map: {op} has no scalar form."),
    };

    private static void Step(T* x, T* y, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + Vector512<T>.Count <= n; i += Vector512<T>.Count)
            {
                var v = Vector512.Load(x + i);
                Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512<T>.Zero), Vector512<T>.One, Vector512<T>.Zero).Store(y + i);
            }
        }
        for (; i < n; i++) y[i] = x[i] > T.Zero ? T.One : T.Zero;
    }

    /// <summary>A program split into equal chunk ranges, one per part; the split never changes a result.</summary>
    private sealed class MapWork : IParallelWork
    {
        [ThreadStatic] private static MapWork? t_instance;
        private ElementwiseProgram? _program;
        private T** _inputs;
        private T** _dsts;
        private byte* _mode;
        private int _n, _chunksPerPart;

        public int Parts { get; private set; }

        public static MapWork Get() => t_instance ??= new MapWork();

        public void Set(ElementwiseProgram program, T** inputs, T** dsts, byte* mode, int n, int chunks)
        {
            _program = program;
            _inputs = inputs;
            _dsts = dsts;
            _mode = mode;
            _n = n;
            Parts = Math.Min(CpuParallel.Threads, chunks);
            _chunksPerPart = (chunks + Parts - 1) / Parts;
        }

        public void Clear() => _program = null;

        public void RunPart(int part)
        {
            int start = part * _chunksPerPart * Chunk;
            int end = Math.Min(_n, start + _chunksPerPart * Chunk);
            if (start < end) MapRange(_program!, _inputs, _dsts, _mode, start, end);
        }
    }
}
