using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd.Backends.Cpu;

// Parallel bodies of the kernels whose work splits into independent pieces. Each is a RangeWork: fixed
// blocks, cached per thread, so threads never change a result and a call allocates nothing.
internal sealed partial class CpuKernels<T>
{
    /// <summary>Elements per block of a flat elementwise kernel.</summary>
    private const int FlatBlock = 8192;

    /// <summary>Elementwise pieces over equal-length buffers (copy, add, broadcast fast paths, optimizer updates).</summary>
    private sealed class FlatWork : RangeWork
    {
        [ThreadStatic] private static FlatWork? t_instance;
        public static FlatWork Instance => t_instance ??= new FlatWork();

        public enum Kind { Copy, AddInto, Binary, BinaryScalarRight, BinaryScalarLeft, Sgd, Adam }

        private Kind _kind;
        private ElementwiseOp _op;
        private Buffer<T> _a, _b, _c, _d;
        private T _s0, _s1, _s2, _s3, _s4, _s5, _s6, _s7;
        private bool _flag;

        public void Run(Kind kind, ElementwiseOp op, Buffer<T> a, Buffer<T> b, Buffer<T> c, Buffer<T> d, int n,
            T s0 = default, T s1 = default, T s2 = default, T s3 = default, T s4 = default, T s5 = default, T s6 = default, T s7 = default, bool flag = false)
        {
            (_kind, _op, _a, _b, _c, _d, _flag) = (kind, op, a, b, c, d, flag);
            (_s0, _s1, _s2, _s3, _s4, _s5, _s6, _s7) = (s0, s1, s2, s3, s4, s5, s6, s7);
            if (n <= FlatBlock) Execute(0, 0, n); // one block: no dispatch
            else Run(n, FlatBlock, n);
            _a = _b = _c = _d = default;
        }

        protected override void Execute(int block, int start, int end)
        {
            int n = end - start;
            Span<T> P(Buffer<T> x) => S(x).Slice(start, n);
            switch (_kind)
            {
                case Kind.Copy: P(_a).CopyTo(P(_c)); break;
                case Kind.AddInto: { var d = P(_c); TP.Add(d, P(_a), d); break; }
                case Kind.Binary: BinarySpan(_op, P(_a), P(_b), P(_c)); break;
                case Kind.BinaryScalarRight: BinaryScalar(_op, P(_a), _s0, P(_c), scalarLeft: false); break;
                case Kind.BinaryScalarLeft: BinaryScalar(_op, P(_b), _s0, P(_c), scalarLeft: true); break;
                case Kind.Sgd: SgdRange(P(_a), P(_b), _flag ? P(_c) : default, _s0, _s1, _s2, _flag && _s3 != T.Zero); break;
                case Kind.Adam: AdamRange(P(_a), P(_b), P(_c), P(_d), _s0, _s1, _s2, _s3, _s4, _s5, _s6); break;
            }
        }
    }

    /// <summary>d = x op y, elementwise.</summary>
    private static void BinarySpan(ElementwiseOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d)
    {
        switch (op)
        {
            case ElementwiseOp.Add: AddOperator<T>.Apply(x, y, d); break;
            case ElementwiseOp.Subtract: SubtractOperator<T>.Apply(x, y, d); break;
            case ElementwiseOp.Multiply: MultiplyOperator<T>.Apply(x, y, d); break;
            case ElementwiseOp.Divide: DivideOperator<T>.Apply(x, y, d); break;
            case ElementwiseOp.Max: MaxOperator<T>.Apply(x, y, d); break;
            case ElementwiseOp.Min: MinOperator<T>.Apply(x, y, d); break;
            case ElementwiseOp.Pow: PowOperator<T>.Apply(x, y, d); break;
            default: throw new NotSupportedException($"{op} is not a binary op.");
        }
    }

    /// <summary>d = x op s (or s op x when <paramref name="scalarLeft"/>).</summary>
    private static void BinaryScalar(ElementwiseOp op, ReadOnlySpan<T> x, T s, Span<T> d, bool scalarLeft)
    {
        switch (op)
        {
            case ElementwiseOp.Add: Scalar<AddOperator<T>>(x, s, d, scalarLeft); break;
            case ElementwiseOp.Subtract: Scalar<SubtractOperator<T>>(x, s, d, scalarLeft); break;
            case ElementwiseOp.Multiply: Scalar<MultiplyOperator<T>>(x, s, d, scalarLeft); break;
            case ElementwiseOp.Divide: Scalar<DivideOperator<T>>(x, s, d, scalarLeft); break;
            case ElementwiseOp.Max: Scalar<MaxOperator<T>>(x, s, d, scalarLeft); break;
            case ElementwiseOp.Min: Scalar<MinOperator<T>>(x, s, d, scalarLeft); break;
            case ElementwiseOp.Pow: Scalar<PowOperator<T>>(x, s, d, scalarLeft); break;
            default: throw new NotSupportedException($"{op} is not a binary op.");
        }

        static void Scalar<TOp>(ReadOnlySpan<T> x, T s, Span<T> d, bool scalarLeft) where TOp : IBinaryOperator<T>
        {
            if (scalarLeft) TOp.Apply(s, x, d);
            else TOp.Apply(x, s, d);
        }
    }

    /// <summary>Rows of a (rows × classes) cross-entropy, in blocks whose partial losses add up in block order.</summary>
    private sealed class CrossEntropyWork : RangeWork
    {
        [ThreadStatic] private static CrossEntropyWork? t_instance;
        public static CrossEntropyWork Instance => t_instance ??= new CrossEntropyWork();
        public const int Rows = 256;

        private Buffer<T> _x, _lp, _g;
        private int[] _targets = [];
        private int _classes;
        private bool _backward;
        private T _scale;
        public double[] Partial = new double[16];

        public void Forward(Buffer<T> logits, Buffer<T> logProbabilities, int classes, int[] targets)
        {
            (_x, _lp, _classes, _targets, _backward) = (logits, logProbabilities, classes, targets, false);
            int blocks = (targets.Length + Rows - 1) / Rows;
            if (Partial.Length < blocks) Partial = new double[blocks];
            Run(targets.Length, Rows, (long)targets.Length * classes);
            _x = _lp = default;
        }

        public void Backward(Buffer<T> logProbabilities, Buffer<T> destination, int classes, int[] targets, T scale)
        {
            (_lp, _g, _classes, _targets, _scale, _backward) = (logProbabilities, destination, classes, targets, scale, true);
            Run(targets.Length, Rows, (long)targets.Length * classes);
            _lp = _g = default;
        }

        protected override void Execute(int block, int start, int end)
        {
            int c = _classes;
            if (_backward)
            {
                var lp = S(_lp); var dx = S(_g);
                Span<T> p = c <= 1024 ? stackalloc T[c] : new T[c];
                for (int i = start; i < end; i++)
                {
                    TP.Exp(lp.Slice(i * c, c), p);
                    p[_targets[i]] -= T.One;
                    var d = dx.Slice(i * c, c);
                    TP.MultiplyAdd(p, _scale, d, d);
                }
                return;
            }
            var x = S(_x);
            bool keep = _lp.Length > 0;
            Span<T> row = keep ? default : (c <= 1024 ? stackalloc T[c] : new T[c]);
            double total = 0; // a float running sum over a million positions drifts by 1%
            for (int i = start; i < end; i++)
            {
                Span<T> lp = keep ? S(_lp).Slice(i * c, c) : row;
                LogSoftmaxRow(x.Slice(i * c, c), lp);
                total -= double.CreateTruncating(lp[_targets[i]]);
            }
            Partial[block] = total;
        }
    }
}
