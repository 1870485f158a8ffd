using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>
    /// The same elements in a new shape (sharing storage; row-major order is unchanged).
    /// One size may be -1 and is inferred. The gradient is reshaped back.
    /// </summary>
    /// <exception cref="ArgumentException">More than one -1, a negative size, or an element count that differs.</exception>
    public Tensor<T> Reshape(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var s = shape.AsSpan().ToArray();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"Reshape: only one size may be -1, got {ShapeUtil.Format(shape)}.", nameof(shape));
                infer = i;
            }
            else if (s[i] < 0) throw new ArgumentException($"Reshape: negative size in {ShapeUtil.Format(shape)}.", nameof(shape));
            else known = known > Array.MaxLength && s[i] != 0 ? known : known * s[i]; // saturates: never wraps to a match
        }
        if (infer >= 0)
        {
            if (known == 0 || Length % known != 0)
                throw new ArgumentException($"Reshape: cannot infer -1 in {ShapeUtil.Format(shape)} for {Length} elements (from {ShapeUtil.Format(_shape)}).", nameof(shape));
            s[infer] = (int)(Length / known);
        }
        else if (known != Length)
            throw new ArgumentException($"Reshape: shape {ShapeUtil.Format(_shape)} ({Length} elements) cannot become {ShapeUtil.Format(shape)}.", nameof(shape));

        var r = new Tensor<T>(s, _storage, _offset);
        return ShouldRecord(this) ? r.WithCreator(new ReshapeNode(this)) : r;
    }

    private sealed class ReshapeNode(Tensor<T> x) : Node<T>(x)
    {
        internal override string Name => "Reshape";

        internal override Tensor<T>? ViewOf => Inputs.Length > 0 ? Inputs[0] : null;

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            var dx = Inputs[0].GradBufferFor(out bool accumulate);
            K.Copy(g, dx, accumulate);
        }
    }
}
