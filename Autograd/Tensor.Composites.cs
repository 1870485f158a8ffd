using System.Numerics;

namespace Autograd;

// Composite ops: built from primitives, so they define no backward of their own.
public sealed partial class Tensor<T>
{
    /// <summary>The mean of all elements, as a scalar; NaN for an empty tensor (0/0, as PyTorch).</summary>
    public Tensor<T> Mean() => Sum() * (T.One / T.CreateChecked(Length));

    /// <summary>The mean along <paramref name="axis"/>, dropping it unless <paramref name="keepDim"/>; NaN where the axis is empty.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is out of range.</exception>
    public Tensor<T> Mean(int axis, bool keepDim = false)
    {
        int ax = ShapeUtil.NormalizeAxis(axis, _shape, "Mean");
        return Sum(ax, keepDim) * (T.One / T.CreateChecked(_shape[ax]));
    }

    /// <summary>Softmax along <paramref name="axis"/>, as exp(LogSoftmax): stable for large logits.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is out of range.</exception>
    public Tensor<T> Softmax(int axis) => LogSoftmax(ShapeUtil.NormalizeAxis(axis, _shape, "Softmax")).Exp();

    /// <summary>Inserts an axis of size 1 at <paramref name="axis"/> (0..Rank; negative counts from the end).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is out of range.</exception>
    public Tensor<T> Unsqueeze(int axis)
    {
        int ax = ShapeUtil.NormalizeNewAxis(axis, _shape, "Unsqueeze");
        return Reshape([.. _shape[..ax], 1, .. _shape[ax..]]);
    }

    /// <summary>
    /// Splits into parts of ⌈size / <paramref name="chunks"/>⌉ along <paramref name="axis"/>, as PyTorch's
    /// <c>chunk</c>: the last part is smaller when the size does not divide, and there may be fewer than
    /// <paramref name="chunks"/> parts (never an empty one, except one part for an empty axis).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="chunks"/> is not positive, or the axis is out of range.</exception>
    public Tensor<T>[] Chunk(int chunks, int axis)
    {
        int ax = ShapeUtil.NormalizeAxis(axis, _shape, "Chunk");
        if (chunks <= 0)
            throw new ArgumentOutOfRangeException(nameof(chunks), chunks, $"Chunk: needs at least one chunk, got {chunks} for shape {ShapeUtil.Format(_shape)}.");
        int total = _shape[ax];
        if (total == 0) return [Slice(ax, 0, 0)];
        int size = (int)(((long)total + chunks - 1) / chunks); // in long: chunks may be up to int.MaxValue
        var parts = new Tensor<T>[(int)(((long)total + size - 1) / size)];
        for (int i = 0; i < parts.Length; i++) parts[i] = Slice(ax, i * size, Math.Min(size, total - i * size));
        return parts;
    }

    /// <summary>Elementwise x² (as <c>this * this</c>).</summary>
    public Tensor<T> Square() => Multiply(this);
}

