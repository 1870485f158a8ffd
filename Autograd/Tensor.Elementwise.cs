using Autograd.Backends;

namespace Autograd;

// Shared plumbing for the elementwise ops; each op's forward and backward stay in its own file under Ops/.
public sealed partial class Tensor<T>
{
    /// <summary>A fresh tensor of this shape holding <paramref name="program"/>(this).</summary>
    private Tensor<T> MapForward(ElementwiseProgram program)
    {
        var r = Uninitialized(_shape);
        K.Map(program, [Buffer], r.Buffer, accumulate: false);
        return r;
    }

    /// <summary>this op other, broadcasting both to a common shape.</summary>
    private Tensor<T> BroadcastForward(ElementwiseOp op, Tensor<T> other, string name)
    {
        ArgumentNullException.ThrowIfNull(other);
        int[] outShape = ShapeUtil.SameShape(_shape, other._shape) ? _shape : ShapeUtil.Broadcast(_shape, other._shape, name);
        var r = Uninitialized(outShape);
        K.Broadcast(op, Buffer, _shape, other.Buffer, other._shape, r.Buffer, outShape);
        return r;
    }

    private static readonly ElementwiseProgram NegateProgram = ElementwiseProgram.Compile(-Expr.Input(0));

    /// <summary>target.grad ±= g summed over the axes target was broadcast along (Add's and Subtract's backward).</summary>
    internal static void AccumulateReduced(Buffer<T> g, int[] gShape, Tensor<T> target, bool negate)
    {
        var k = K;
        if (target.Length != g.Length)
        {
            k.ReduceTo(g, gShape, target.GradBuffer, target._shape, negate ? -T.One : T.One);
            return;
        }
        if (!negate && target.TryAdoptGradient(g)) return;
        var dst = target.GradBufferFor(out bool accumulate);
        if (negate) k.Map(NegateProgram, [g], dst, accumulate);
        else k.Copy(g, dst, accumulate);
    }

    private static readonly ElementwiseProgram ProductProgram = ElementwiseProgram.Compile(Expr.Input(0) * Expr.Input(1));

    /// <summary>target.grad += reduce_to(target's shape)(g ⊙ factor), factor broadcast to g's shape.</summary>
    internal static void AccumulateProduct(Buffer<T> g, int[] gShape, Tensor<T> factor, Tensor<T> target)
    {
        var k = K;
        if (factor.Length == g.Length && target.Length == g.Length)
        {
            var d = target.GradBufferFor(out bool accumulate);
            k.Map(ProductProgram, [g, factor.Buffer], d, accumulate);
            return;
        }
        var dst = target.GradBuffer;
        using var tmp = new Scratch<T>(g.Length);
        k.Broadcast(ElementwiseOp.Multiply, g, gShape, factor.Buffer, factor._shape, tmp.Buffer, gShape);
        k.ReduceTo(tmp.Buffer, gShape, dst, target._shape, T.One);
    }
}
