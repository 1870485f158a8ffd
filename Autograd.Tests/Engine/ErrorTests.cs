using T = Autograd.Tensor<double>;

namespace Autograd.Tests.Engine;

/// <summary>One documented error: how to provoke it, the exact exception type, and what the message must name.</summary>
public sealed record ErrorCase(string Name, int[][] Shapes, Action<T[]> Act, Type Exception, string[] MessageParts)
{
    public override string ToString() => Name;
}

/// <summary>
/// Every error listed in api.md raises the documented exception type, names the op and the shapes,
/// and leaves its inputs intact and usable (values unchanged, later ops and backward still work).
/// </summary>
public class ErrorTests
{
    private static ErrorCase E<TEx>(string name, int[][] shapes, Action<T[]> act, params string[] parts) where TEx : Exception
        => new(name, shapes, act, typeof(TEx), parts);

    public static IEnumerable<ErrorCase> Rows()
    {
        // Broadcasting binary ops: both shapes, formatted like "(2, 3)".
        foreach (var (name, op) in new (string, Func<T, T, T>)[]
        {
            ("Add", (a, b) => a + b), ("Subtract", (a, b) => a - b),
            ("Multiply", (a, b) => a * b), ("Divide", (a, b) => a / b),
        })
        {
            yield return E<ArgumentException>($"{name} (2,3) vs (3,2)", [[2, 3], [3, 2]], x => op(x[0], x[1]), name, "(2, 3)", "(3, 2)");
            yield return E<ArgumentException>($"{name} (2,3) vs (4)", [[2, 3], [4]], x => op(x[0], x[1]), name, "(2, 3)", "(4)");
            yield return E<ArgumentException>($"{name} (4,1,3) vs (2,2)", [[4, 1, 3], [2, 2]], x => op(x[0], x[1]), name, "(4, 1, 3)", "(2, 2)");
        }

        yield return E<ArgumentException>("MatMul inner", [[2, 3], [4, 5]], x => x[0].MatMul(x[1]), "MatMul", "(2, 3)", "(4, 5)");
        yield return E<ArgumentException>("MatMul batched inner", [[2, 3, 4], [2, 3, 5]], x => x[0].MatMul(x[1]), "MatMul", "(2, 3, 4)", "(2, 3, 5)");
        yield return E<ArgumentException>("MatMul batch axes", [[2, 3, 4], [3, 4, 5]], x => x[0].MatMul(x[1]), "MatMul", "(2, 3, 4)", "(3, 4, 5)");
        yield return E<ArgumentException>("MatMul rank 1", [[3], [3, 2]], x => x[0].MatMul(x[1]), "MatMul", "(3)", "(3, 2)");

        // Fused pointwise functions: the op, the function and every shape; or the arity.
        var product = PointwiseFunction.Compile((a, b) => a * b);
        yield return E<ArgumentException>("Pointwise (2,3) vs (3,2)", [[2, 3], [3, 2]], x => Tensor.Pointwise(product, x[0], x[1]), "Pointwise", "in0 * in1", "(2, 3)", "(3, 2)");
        yield return E<ArgumentException>("Pointwise arity", [[2, 3]], x => Tensor.Pointwise(product, x[0]), "Pointwise", "2 inputs", "got 1");

        // Axis out of range: ArgumentOutOfRangeException (an ArgumentException), naming op and shape.
        yield return E<ArgumentOutOfRangeException>("Sum axis 2", [[2, 3]], x => x[0].Sum(2), "Sum", "(2, 3)");
        yield return E<ArgumentOutOfRangeException>("Sum axis -3", [[2, 3]], x => x[0].Sum(-3, keepDim: true), "Sum", "(2, 3)");
        yield return E<ArgumentOutOfRangeException>("Sum axis of scalar", [[]], x => x[0].Sum(0), "Sum", "()");
        yield return E<ArgumentOutOfRangeException>("Mean axis 2", [[2, 3]], x => x[0].Mean(2), "Mean", "(2, 3)");
        yield return E<ArgumentOutOfRangeException>("Max axis 2", [[2, 3]], x => x[0].Max(2), "Max", "(2, 3)");
        yield return E<ArgumentOutOfRangeException>("Max axis -3", [[2, 3]], x => x[0].Max(-3), "Max", "(2, 3)");
        yield return E<ArgumentOutOfRangeException>("Softmax axis 2", [[2, 3]], x => x[0].Softmax(2), "Softmax", "(2, 3)");
        yield return E<ArgumentOutOfRangeException>("LogSoftmax axis -3", [[2, 3]], x => x[0].LogSoftmax(-3), "LogSoftmax", "(2, 3)");
        yield return E<ArgumentOutOfRangeException>("Slice axis 2", [[2, 3]], x => x[0].Slice(2, 0, 1), "Slice", "(2, 3)");
        yield return E<ArgumentOutOfRangeException>("Slice axis -3", [[2, 3]], x => x[0].Slice(-3, 0, 1), "Slice", "(2, 3)");
        yield return E<ArgumentOutOfRangeException>("Slice range past end", [[2, 3]], x => x[0].Slice(1, 2, 2), "Slice", "(2, 3)");
        yield return E<ArgumentOutOfRangeException>("Slice negative start", [[2, 3]], x => x[0].Slice(0, -1, 1), "Slice", "(2, 3)");
        yield return E<ArgumentOutOfRangeException>("Concat axis 2", [[2, 3], [2, 3]], x => Tensor.Concat(2, x), "Concat", "(2, 3)");
        yield return E<ArgumentOutOfRangeException>("Stack axis 3", [[2, 3], [2, 3]], x => Tensor.Stack(3, x), "Stack", "(2, 3)");

        yield return E<ArgumentException>("Concat other axis differs", [[2, 3], [2, 4]], x => Tensor.Concat(0, x), "Concat", "(2, 3)", "(2, 4)");
        yield return E<ArgumentException>("Concat rank differs", [[2, 3], [2, 3, 1]], x => Tensor.Concat(0, x), "Concat", "(2, 3)", "(2, 3, 1)");
        yield return E<ArgumentException>("Stack shapes differ", [[2, 3], [3, 2]], x => Tensor.Stack(0, x), "Stack", "(2, 3)", "(3, 2)");
        yield return E<ArgumentException>("Transpose rank 1", [[3]], x => x[0].Transpose(), "Transpose", "(3)");

        yield return E<ArgumentException>("Reshape size", [[2, 3]], x => x[0].Reshape(4, 2), "Reshape", "(2, 3)", "(4, 2)");
        yield return E<ArgumentException>("Reshape -1 indivisible", [[2, 3]], x => x[0].Reshape(4, -1), "Reshape", "(2, 3)", "(4, -1)");
        yield return E<ArgumentException>("Reshape two -1", [[2, 3]], x => x[0].Reshape(-1, -1), "Reshape", "(-1, -1)");

        yield return E<InvalidOperationException>("Backward non-scalar", [[2, 3]], x => (x[0] * 2.0).Backward(), "Backward", "(2, 3)");
        yield return E<ArgumentException>("Backward gradient shape", [[2, 3]], x => (x[0] * 2.0).Backward(Tensor.Zeros<double>(3, 2)), "Backward", "(2, 3)", "(3, 2)");
        yield return E<InvalidOperationException>("Item multi-element", [[2, 3]], x => x[0].Item(), "Item", "(2, 3)");

        yield return E<ArgumentOutOfRangeException>("IndexSelect id too large", [[5, 3]], x => x[0].IndexSelect([0, 5]), "IndexSelect", "(5, 3)", "5");
        yield return E<ArgumentOutOfRangeException>("IndexSelect id negative", [[5, 3]], x => x[0].IndexSelect([-1]), "IndexSelect", "(5, 3)", "-1");
        yield return E<ArgumentOutOfRangeException>("CrossEntropy target too large", [[2, 5]], x => x[0].CrossEntropy([1, 5]), "CrossEntropy", "(2, 5)", "5");
        yield return E<ArgumentOutOfRangeException>("CrossEntropy target negative", [[2, 5]], x => x[0].CrossEntropy([-1, 0]), "CrossEntropy", "(2, 5)", "-1");
        yield return E<ArgumentException>("CrossEntropy target count", [[2, 5]], x => x[0].CrossEntropy([1, 2, 3]), "CrossEntropy", "(2, 5)", "3");
    }

    public static IEnumerable<TestCaseData> Cases() => Rows().Select(r => new TestCaseData(r).SetArgDisplayNames(r.Name));

    [TestCaseSource(nameof(Cases))]
    public void Error_HasDocumentedTypeAndMessage_AndInputsStayUsable(ErrorCase row)
    {
        var rng = new Random(7);
        var inputs = row.Shapes.Select(s =>
        {
            var t = Tensor.Randn<double>(rng, s);
            t.RequiresGrad = true;
            return t;
        }).ToArray();
        var before = inputs.Select(t => t.ToArray()).ToArray();

        var ex = Assert.Throws(row.Exception, () => row.Act(inputs));
        foreach (var part in row.MessageParts)
            Assert.That(ex!.Message, Does.Contain(part), $"message should name {part}");

        // Still usable: values unchanged, no stray gradient, and a fresh graph over them works.
        for (int i = 0; i < inputs.Length; i++)
        {
            Assert.That(inputs[i].ToArray(), Is.EqualTo(before[i]));
            Assert.That(inputs[i].Grad, Is.Null);
        }
        var loss = inputs.Select(t => (t * t).Sum()).Aggregate((a, b) => a + b);
        loss.Backward();
        for (int i = 0; i < inputs.Length; i++)
            Assert.That(inputs[i].Grad!.ToArray(), Is.EqualTo(before[i].Select(v => 2 * v).ToArray()));
    }

    [Test]
    public void FromArray_LengthMismatch_NamesShape()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.FromArray(new double[5], 2, 3));
        Assert.That(ex!.Message, Does.Contain("FromArray").And.Contain("(2, 3)").And.Contain("5"));
        Assert.Throws<ArgumentException>(() => Tensor.FromArray(new double[1], 2, -3));
    }

    [Test]
    public void NegativeSize_IsAnArgumentException()
    {
        Assert.That(() => Tensor.Zeros<double>(2, -1), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => Tensor.Ones<float>(-2), Throws.InstanceOf<ArgumentException>());
    }

    [Test]
    public void Indexer_OutOfRange_IsAnArgumentException()
    {
        var t = Tensor.Zeros<double>(2, 3);
        Assert.That(() => t[2, 0], Throws.InstanceOf<ArgumentException>().With.Message.Contain("(2, 3)"));
        Assert.That(() => t[0], Throws.InstanceOf<ArgumentException>().With.Message.Contain("(2, 3)"));
    }

    [Test]
    public void Backward_OnTensorWithoutGraph_IsInvalidOperation()
    {
        var t = Tensor.Scalar(2.0);
        Assert.Throws<InvalidOperationException>(() => t.Backward());
    }
}
