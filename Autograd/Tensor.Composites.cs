using System.Numerics;

namespace Autograd;

// Composite ops: built from primitives, so they define no backward of their own.
public sealed partial class Tensor<T>
{
    /// <summary>The mean of all elements, as a scalar.</summary>
    /// <exception cref="InvalidOperationException">The tensor is empty.</exception>
    public Tensor<T> Mean()
    {
        if (Length == 0) throw new InvalidOperationException($"Mean: tensor of shape {ShapeUtil.Format(_shape)} is empty.");
        return Sum() * (T.One / T.CreateChecked(Length));
    }

    /// <summary>The mean along <paramref name="axis"/>, dropping it unless <paramref name="keepDim"/>.</summary>
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

    /// <summary>Splits into <paramref name="chunks"/> equal parts along <paramref name="axis"/>.</summary>
    /// <exception cref="ArgumentException">The axis size is not divisible by <paramref name="chunks"/>.</exception>
    public Tensor<T>[] Chunk(int chunks, int axis)
    {
        int ax = ShapeUtil.NormalizeAxis(axis, _shape, "Chunk");
        if (chunks <= 0 || _shape[ax] % chunks != 0)
            throw new ArgumentException($"Chunk: axis {axis} of shape {ShapeUtil.Format(_shape)} does not split into {chunks} equal parts.", nameof(chunks));
        int size = _shape[ax] / chunks;
        var parts = new Tensor<T>[chunks];
        for (int i = 0; i < chunks; i++) parts[i] = Slice(ax, i * size, size);
        return parts;
    }

    /// <summary>Elementwise x² (as <c>this * this</c>).</summary>
    public Tensor<T> Square() => Multiply(this);
}

