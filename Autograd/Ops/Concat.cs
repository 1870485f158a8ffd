using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Joins tensors along an existing axis; all other sizes must match. Each input gets its block of the gradient.</summary>
    /// <exception cref="ArgumentException">No tensors, differing ranks, or a size other than the axis differs.</exception>
    internal static Tensor<T> Concat(int axis, Tensor<T>[] tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Length == 0) throw new ArgumentException("Concat: needs at least one tensor.", nameof(tensors));
        for (int i = 0; i < tensors.Length; i++)
            if (tensors[i] is null) throw new ArgumentException($"Concat: tensors[{i}] is null.", nameof(tensors));
        var first = tensors[0];
        int ax = ShapeUtil.NormalizeAxis(axis, first._shape, "Concat");
        int total = 0;
        foreach (var t in tensors)
        {
            bool ok = t.Rank == first.Rank;
            for (int i = 0; ok && i < t.Rank; i++) ok = i == ax || t._shape[i] == first._shape[i];
            if (!ok)
                throw new ArgumentException($"Concat: shapes {string.Join(", ", tensors.Select(x => ShapeUtil.Format(x._shape)))} differ outside axis {axis}.", nameof(tensors));
            total += t._shape[ax];
        }
        var outShape = first._shape.AsSpan().ToArray();
        outShape[ax] = total;
        var r = Uninitialized(outShape);
        var (outer, _, inner) = ShapeUtil.Split(outShape, ax);
        var k = K;
        var dst = r.Buffer;
        int rowOut = total * inner, offset = 0;
        foreach (var t in tensors)
        {
            int run = t._shape[ax] * inner, at = Math.Min(offset, dst.Length); // no rows (outer = 0): nothing to copy, anywhere
            k.CopyRuns(t.Buffer, run, dst.Slice(at, dst.Length - at), rowOut, outer, run, accumulate: false);
            offset += run;
        }
        return ShouldRecord(tensors) ? r.WithCreator(new ConcatNode(tensors.AsSpan().ToArray(), ax)) : r;
    }

    private sealed class ConcatNode(Tensor<T>[] inputs, int axis) : Node<T>(inputs)
    {
        internal override string Name => "Concat";

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            var (outer, _, inner) = ShapeUtil.Split(output._shape, axis);
            int rowOut = output._shape[axis] * inner, offset = 0;
            var k = K;
            foreach (var t in Inputs)
            {
                int run = t._shape[axis] * inner, at = Math.Min(offset, g.Length);
                if (t.RequiresGrad)
                {
                    // Every element of the input's gradient is written: no zero-fill needed when it is fresh.
                    var dx = t.GradBufferFor(out bool accumulate);
                    k.CopyRuns(g.Slice(at, g.Length - at), rowOut, dx, run, outer, run, accumulate);
                }
                offset += run;
            }
        }
    }
}
