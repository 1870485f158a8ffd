using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Most inputs a pointwise op takes (its kernels get them, the gradient, the result and the saved values from the stack).</summary>
    internal const int MaxPointwiseInputs = 7;

    private const int MaxPointwiseArgs = MaxPointwiseInputs + 2 + PointwiseFunction.MaxSaved;

    /// <summary>
    /// <paramref name="function"/> over inputs broadcast to one shape, as one op: one kernel pass forward (when recorded it also
    /// stores the function's transcendental intermediates), and one in backward that evaluates g ⊙ ∂f/∂input for every
    /// input requiring grad from the inputs, the result and those saved values.
    /// </summary>
    internal static Tensor<T> Pointwise(PointwiseFunction function, Tensor<T>[] inputs)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(inputs);
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is null) throw new ArgumentException($"Pointwise: inputs[{i}] is null.", nameof(inputs));
        if (inputs.Length != function.Arity)
            throw new ArgumentException($"Pointwise: '{function}' takes {function.Arity} inputs, got {inputs.Length}.", nameof(inputs));
        if (inputs.Length > MaxPointwiseInputs)
            throw new ArgumentException($"Pointwise: at most {MaxPointwiseInputs} inputs, got {inputs.Length}.", nameof(inputs));
        int[] shape = inputs[0]._shape;
        foreach (var x in inputs)
        {
            if (ShapeUtil.SameShape(x._shape, shape)) continue;
            try { shape = ShapeUtil.Broadcast(shape, x._shape, "Pointwise"); }
            catch (ArgumentException)
            {
                throw new ArgumentException($"Pointwise: '{function}' cannot broadcast its inputs' shapes {string.Join(", ", inputs.Select(t => ShapeUtil.Format(t._shape)))} together.", nameof(inputs));
            }
        }
        var r = Uninitialized(shape);
        var args = new PointwiseArgs(inputs, shape);
        var k = K;
        try
        {
            if (!ShouldRecord(inputs))
            {
                k.Map(function.Forward, args.Inputs, r.Buffer, accumulate: false);
                return r;
            }
            // Recorded: the same pass also writes the intermediates backward reads (see PointwiseFunction.Saved).
            var saved = new Storage<T>[function.Saved.Count];
            var outputs = new PointwiseArgs();
            outputs[0] = r.Buffer;
            for (int s = 0; s < saved.Length; s++) outputs[s + 1] = new Buffer<T>(saved[s] = k.Rent(r.Length), 0, r.Length);
            Span<bool> overwrite = stackalloc bool[saved.Length + 1];
            k.MapMany(function.RecordedForward, args.Inputs, outputs.First(saved.Length + 1), overwrite);
            return r.WithCreator(new PointwiseNode(function, inputs.AsSpan().ToArray(), saved));
        }
        finally
        {
            args.Dispose();
        }
    }

    /// <summary>
    /// Kernel arguments on the stack, some in rented scratch: the inputs (broadcast ones expanded), then in backward
    /// the gradient, the result and the saved values; or the destinations of a multi-result pass.
    /// </summary>
    private struct PointwiseArgs : IDisposable
    {
        private Buffers _buffers;
        private Expanded _expanded;
        private readonly int _count;

        public PointwiseArgs(Tensor<T>[] inputs, int[] shape) : this(new NodeInputs<T>(null, null, inputs), shape) { }

        public PointwiseArgs(NodeInputs<T> inputs, int[] shape)
        {
            _count = inputs.Length;
            for (int i = 0; i < inputs.Length; i++) SetInput(i, inputs[i], shape);
        }

        private void SetInput(int i, Tensor<T> x, int[] shape)
        {
            int n = ShapeUtil.Product(shape);
            if (x.Length == n) // as many elements as the result: broadcasting only adds leading 1s, same layout
            {
                _buffers[i] = x.Buffer;
                return;
            }
            // A broadcast input is expanded once for the pass: max(x, x) = x exactly (NaN and −0 too).
            SetScratch(i, n);
            K.Broadcast(ElementwiseOp.Max, x.Buffer, x._shape, x.Buffer, x._shape, _buffers[i], shape);
        }

        /// <summary>Buffer i (read or set).</summary>
        [UnscopedRef] public ref Buffer<T> this[int i] => ref _buffers[i];

        /// <summary>Makes buffer i a scratch buffer of <paramref name="length"/> elements, given back on dispose.</summary>
        public void SetScratch(int i, int length) => _buffers[i] = new Buffer<T>(_expanded[i] = K.Rent(length), 0, length);

        /// <summary>The first <paramref name="count"/> buffers.</summary>
        [UnscopedRef] public ReadOnlySpan<Buffer<T>> First(int count) => ((ReadOnlySpan<Buffer<T>>)_buffers)[..count];

        [UnscopedRef] public ReadOnlySpan<Buffer<T>> Inputs => First(_count);

        /// <summary>The inputs followed by <paramref name="gradient"/>, the result and the saved values.</summary>
        [UnscopedRef] public ReadOnlySpan<Buffer<T>> With(Buffer<T> gradient, Buffer<T> result, Storage<T>[] saved)
        {
            _buffers[_count] = gradient;
            _buffers[_count + 1] = result;
            for (int s = 0; s < saved.Length; s++) _buffers[_count + 2 + s] = new Buffer<T>(saved[s], 0, result.Length);
            return ((ReadOnlySpan<Buffer<T>>)_buffers)[..(_count + 2 + saved.Length)];
        }

        public void Dispose()
        {
            var k = K;
            for (int i = 0; i < MaxPointwiseInputs; i++)
            {
                if (_expanded[i] is { } s) k.Recycle(s);
                _expanded[i] = null;
            }
        }

        [InlineArray(MaxPointwiseArgs)]
        private struct Buffers
        {
            private Buffer<T> _first;
        }

        [InlineArray(MaxPointwiseInputs)]
        private struct Expanded
        {
            private Storage<T>? _first;
        }
    }

    private sealed class PointwiseNode(PointwiseFunction function, Tensor<T>[] inputs, Storage<T>[] saved) : Node<T>(inputs)
    {
        private Storage<T>[] _saved = saved;

        internal override string Name => "Pointwise";

        internal override void Release()
        {
            base.Release();
            foreach (var s in _saved) K.Recycle(s);
            _saved = [];
        }

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            var xs = Inputs;
            var shape = output._shape;
            var k = K;
            var args = new PointwiseArgs(xs, shape);
            var targets = new PointwiseArgs();
            try
            {
                // Every gradient in one pass (shared subexpressions such as σ(x) computed once); a broadcast input's
                // goes to scratch first, to be summed over the broadcast axes.
                int mask = 0, count = 0;
                Span<bool> accumulate = stackalloc bool[MaxPointwiseInputs];
                for (int i = 0; i < xs.Length; i++)
                {
                    var x = xs[i];
                    if (!x.RequiresGrad) continue;
                    bool broadcast = x.Length != g.Length;
                    if (function.Gradient(i) is null)
                    {
                        // ∂f/∂x ≡ 0, but the gradient must still be written once.
                        if (broadcast) _ = x.GradBuffer;
                        else if (!AccumulatingInto(x, out var dx)) k.Fill(dx, T.Zero);
                        continue;
                    }
                    mask |= 1 << i;
                    if (broadcast) targets.SetScratch(count, g.Length);
                    else accumulate[count] = AccumulatingInto(x, out targets[count]);
                    count++;
                }
                if (count == 0) return;
                k.MapMany(function.Backward(mask), args.With(g, output.Buffer, _saved), targets.First(count), accumulate[..count]);
                for (int i = 0, j = 0; i < xs.Length; i++)
                {
                    if ((mask >> i & 1) == 0) continue;
                    if (xs[i].Length != g.Length) k.ReduceTo(targets[j], shape, xs[i].GradBuffer, xs[i]._shape, T.One);
                    j++;
                }
            }
            finally
            {
                args.Dispose();
                targets.Dispose();
            }
        }

        private static bool AccumulatingInto(Tensor<T> x, out Buffer<T> destination)
        {
            destination = x.GradBufferFor(out bool accumulate);
            return accumulate;
        }
    }
}
