using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>
    /// Rows of this tensor picked by integer ids along axis 0 (an embedding lookup):
    /// (V, ...) with n ids → (n, ...). Repeated ids receive the sum of their gradients.
    /// </summary>
    /// <exception cref="ArgumentException">This tensor is a scalar.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside [0, V).</exception>
    public Tensor<T> IndexSelect(int[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (Rank == 0) throw new ArgumentException("IndexSelect: needs rank >= 1, got a scalar.");
        int rows = _shape[0];
        int row = rows == 0 ? 0 : Length / rows;
        for (int i = 0; i < indices.Length; i++)
            if ((uint)indices[i] >= (uint)rows)
                throw new ArgumentOutOfRangeException(nameof(indices), $"IndexSelect: index {indices[i]} at position {i} is outside [0, {rows}) for shape {ShapeUtil.Format(_shape)}.");
        int[] outShape = [indices.Length, .. _shape[1..]];
        var r = Uninitialized(outShape);
        K.Gather(Buffer, row, indices, r.Buffer);
        return ShouldRecord(this) ? r.WithCreator(new IndexSelectNode(this, indices.AsSpan().ToArray(), row)) : r;
    }

    private sealed class IndexSelectNode(Tensor<T> x, int[] indices, int row) : Node<T>(x)
    {
        internal override string Name => "IndexSelect";

        internal override void Backward(Tensor<T> output, Buffer<T> g) => K.ScatterAdd(g, row, indices, Inputs[0].GradBuffer);
    }
}
