namespace Autograd.Backends.Cpu;

internal sealed partial class CpuKernels<T>
{
    public void Broadcast(ElementwiseOp op, Buffer<T> a, ReadOnlySpan<int> aShape, Buffer<T> b, ReadOnlySpan<int> bShape,
        Buffer<T> destination, ReadOnlySpan<int> shape)
    {
        if (destination.Length == 0) return;
        int n = destination.Length;
        if (n == 1 && a.Length == 1 && b.Length == 1)
        {
            S(destination)[0] = ScalarOp(op, S(a)[0], S(b)[0]);
            return;
        }
        // The common cases (equal shapes, one scalar side) are flat and split across threads.
        if (a.Length == n && b.Length == n) { FlatWork.Instance.Run(FlatWork.Kind.Binary, op, a, b, destination, default, n); return; }
        if (a.Length == n && b.Length == 1) { FlatWork.Instance.Run(FlatWork.Kind.BinaryScalarRight, op, a, default, destination, default, n, S(b)[0]); return; }
        if (a.Length == 1 && b.Length == n) { FlatWork.Instance.Run(FlatWork.Kind.BinaryScalarLeft, op, default, b, destination, default, n, S(a)[0]); return; }
        var x = S(a); var y = S(b); var d = S(destination);
        switch (op)
        {
            case ElementwiseOp.Add: Cpu.Broadcast.Apply<T, AddOperator<T>>(x, aShape, y, bShape, d, shape); break;
            case ElementwiseOp.Subtract: Cpu.Broadcast.Apply<T, SubtractOperator<T>>(x, aShape, y, bShape, d, shape); break;
            case ElementwiseOp.Multiply: Cpu.Broadcast.Apply<T, MultiplyOperator<T>>(x, aShape, y, bShape, d, shape); break;
            case ElementwiseOp.Divide: Cpu.Broadcast.Apply<T, DivideOperator<T>>(x, aShape, y, bShape, d, shape); break;
            case ElementwiseOp.Max: Cpu.Broadcast.Apply<T, MaxOperator<T>>(x, aShape, y, bShape, d, shape); break;
            case ElementwiseOp.Min: Cpu.Broadcast.Apply<T, MinOperator<T>>(x, aShape, y, bShape, d, shape); break;
            default: throw new NotSupportedException($"Broadcast: {op} is not a binary op.");
        }
    }

    public void ReduceTo(Buffer<T> source, ReadOnlySpan<int> shape, Buffer<T> destination, ReadOnlySpan<int> targetShape, T scale)
        => Cpu.Broadcast.AccumulateTo(S(source), shape, S(destination), targetShape, scale);
}
