using Autograd.Nn;

namespace Autograd.Tests.Reliability;

/// <summary>
/// Every public entry point fed null, negative sizes, wrong ranks and mismatched shapes: each raises
/// the documented exception with a message naming the problem, and leaves its objects usable.
/// </summary>
public class ArgumentValidationTests
{
    private static Tensor<double> M(params int[] shape) => Tensor.Ones<double>(shape);

    public static IEnumerable<TestCaseData> Cases()
    {
        TestCaseData Row(string name, Action call, Type exception, params string[] mentions)
            => new TestCaseData(call, exception, mentions).SetName(name);
        Tensor<double> nul = null!;

        // Engine: construction.
        yield return Row("FromArray_NullData", () => Tensor.FromArray<double>(null!, 2), typeof(ArgumentNullException), "data");
        yield return Row("FromArray_LengthMismatch", () => Tensor.FromArray(new double[5], 2, 3), typeof(ArgumentException), "(2, 3)", "5");
        yield return Row("Zeros_NegativeSize", () => Tensor.Zeros<double>(2, -1), typeof(ArgumentException), "(2, -1)");
        yield return Row("Randn_NullRandom", () => Tensor.Randn<double>(null!, 2), typeof(ArgumentNullException), "random");
        // Engine: binary ops.
        yield return Row("Add_Null", () => _ = M(2) + nul, typeof(ArgumentNullException));
        yield return Row("Add_Mismatch", () => _ = M(2, 3) + M(4), typeof(ArgumentException), "Add", "(2, 3)", "(4)");
        yield return Row("Subtract_Mismatch", () => _ = M(2, 3) - M(3, 2), typeof(ArgumentException), "Subtract", "(3, 2)");
        yield return Row("Multiply_Mismatch", () => _ = M(5) * M(4), typeof(ArgumentException), "Multiply", "(5)", "(4)");
        yield return Row("Divide_Mismatch", () => _ = M(2, 2, 2) / M(3, 2), typeof(ArgumentException), "Divide", "(2, 2, 2)");
        yield return Row("MatMul_Null", () => M(2, 2).MatMul(null!), typeof(ArgumentNullException));
        yield return Row("MatMul_Inner", () => M(2, 3).MatMul(M(4, 5)), typeof(ArgumentException), "MatMul", "(2, 3)", "(4, 5)");
        yield return Row("MatMul_Rank1", () => M(3).MatMul(M(3, 2)), typeof(ArgumentException), "MatMul", "(3)");
        yield return Row("MatMul_Batch", () => M(2, 2, 3).MatMul(M(4, 3, 1)), typeof(ArgumentException), "MatMul", "(2, 2, 3)", "(4, 3, 1)");
        // Engine: shape ops.
        yield return Row("Reshape_Count", () => M(2, 3).Reshape(4, 2), typeof(ArgumentException), "Reshape", "(2, 3)", "(4, 2)");
        yield return Row("Reshape_TwoInferred", () => M(2, 3).Reshape(-1, -1), typeof(ArgumentException), "Reshape");
        yield return Row("Reshape_Null", () => M(2).Reshape(null!), typeof(ArgumentNullException));
        yield return Row("Transpose_Rank1", () => M(3).Transpose(), typeof(ArgumentException), "Transpose", "(3)");
        yield return Row("Slice_Axis", () => M(2, 3).Slice(2, 0, 1), typeof(ArgumentOutOfRangeException), "Slice", "axis");
        yield return Row("Slice_Range", () => M(2, 3).Slice(1, 2, 2), typeof(ArgumentOutOfRangeException), "Slice", "(2, 3)");
        yield return Row("Slice_Negative", () => M(2, 3).Slice(1, -1, 1), typeof(ArgumentOutOfRangeException), "Slice");
        yield return Row("Concat_Empty", () => Tensor.Concat<double>(0), typeof(ArgumentException), "Concat");
        yield return Row("Concat_Null", () => Tensor.Concat<double>(0, null!), typeof(ArgumentNullException));
        yield return Row("Concat_Mismatch", () => Tensor.Concat(0, M(2, 3), M(2, 4)), typeof(ArgumentException), "Concat", "(2, 3)", "(2, 4)");
        yield return Row("Stack_Mismatch", () => Tensor.Stack(0, M(2), M(3)), typeof(ArgumentException), "Stack", "(2)", "(3)");
        yield return Row("Chunk_Zero", () => M(2, 5).Chunk(0, 1), typeof(ArgumentOutOfRangeException), "Chunk", "(2, 5)");
        // Engine: reductions and activations.
        yield return Row("Sum_Axis", () => M(2, 3).Sum(5), typeof(ArgumentOutOfRangeException), "Sum", "5");
        yield return Row("Mean_Axis", () => M(2, 3).Mean(-3), typeof(ArgumentOutOfRangeException), "Mean");
        yield return Row("Max_Axis", () => M(2).Max(1), typeof(ArgumentOutOfRangeException), "Max");
        yield return Row("Softmax_Axis", () => M(2, 3).Softmax(2), typeof(ArgumentOutOfRangeException), "Softmax", "(2, 3)");
        yield return Row("LogSoftmax_Axis", () => M(2, 3).LogSoftmax(-3), typeof(ArgumentOutOfRangeException), "LogSoftmax");
        yield return Row("IndexSelect_Range", () => M(3, 2).IndexSelect([0, 3]), typeof(ArgumentOutOfRangeException), "IndexSelect", "3");
        yield return Row("IndexSelect_Null", () => M(3, 2).IndexSelect(null!), typeof(ArgumentNullException));
        yield return Row("CrossEntropy_Count", () => M(2, 3).CrossEntropy([0]), typeof(ArgumentException), "CrossEntropy", "(2, 3)");
        yield return Row("CrossEntropy_Range", () => M(2, 3).CrossEntropy([0, -1]), typeof(ArgumentOutOfRangeException), "CrossEntropy", "-1");
        // Engine: autograd state.
        yield return Row("Backward_NonScalar", () => { var t = M(2); t.RequiresGrad = true; (t * 2.0).Backward(); }, typeof(InvalidOperationException), "Backward", "(2)");
        yield return Row("Backward_NoGrad", () => M(1).Backward(), typeof(InvalidOperationException), "Backward");
        yield return Row("Backward_GradientShape", () => { var t = M(2); t.RequiresGrad = true; (t * 2.0).Backward(M(3)); }, typeof(ArgumentException), "(3)", "(2)");
        yield return Row("Item_MultiElement", () => M(2, 2).Item(), typeof(InvalidOperationException), "Item", "(2, 2)");
        yield return Row("Indexer_Range", () => _ = M(2, 2)[2, 0], typeof(ArgumentOutOfRangeException), "(2, 2)");
        yield return Row("CopyFrom_Length", () => M(2, 2).CopyFrom(new double[3]), typeof(ArgumentException), "(2, 2)");
        yield return Row("GradCheck_NoInputs", () => GradCheck.Assert(x => x[0], []), typeof(ArgumentException), "GradCheck");
        yield return Row("GradCheck_NullFunction", () => GradCheck.Assert(null!, [M(1)]), typeof(ArgumentNullException));
        // Nn: layers and models.
        yield return Row("Layer_ZeroHidden", () => new LstmLayer<double>(0, 3), typeof(ArgumentOutOfRangeException), "hiddenSize");
        yield return Row("Layer_NegativeOutput", () => new GruLayer<double>(3, -2), typeof(ArgumentOutOfRangeException), "outputSize");
        yield return Row("Layer_Rank2Input", () => new RnnLayer<double>(3, 2).Forward(M(4, 5)), typeof(ArgumentException), "(4, 5)");
        yield return Row("Layer_NullInput", () => new RnnLayer<double>(3, 2).Forward(null!), typeof(ArgumentNullException));
        yield return Row("Layer_EmptyTime", () => new RnnLayer<double>(3, 2).Forward(M(1, 0, 2)), typeof(ArgumentException), "(1, 0, 2)");
        yield return Row("Layer_BuildNegative", () => new RnnLayer<double>(3, 2).Build(-1), typeof(ArgumentOutOfRangeException));
        yield return Row("Layer_SetStateShape", () => new GruLayer<double>(3, 2).SetState(M(1, 4)), typeof(ArgumentException), "(1, 4)");
        yield return Row("Layer_SetCellOnGru", () => new GruLayer<double>(3, 2).SetState(M(1, 3), M(1, 3)), typeof(ArgumentException), "LSTM");
        yield return Row("OneHot_Count", () => new LstmLayer<double>(3, 2).ForwardOneHot([1, 2, 3], 2, 2, 4), typeof(ArgumentException), "3 ids");
        yield return Row("Model_NoLayers", () => new RnnModel<double>(), typeof(ArgumentException), "layer");
        yield return Row("Model_Dropout", () => new RnnModel<double>([new RnnLayer<double>(2, 2)], 1.5), typeof(ArgumentOutOfRangeException), "dropout");
        yield return Row("LoadStateDict_Null", () => new RnnModel<double>(new RnnLayer<double>(2, 2)).LoadStateDict(null!), typeof(ArgumentNullException));
        // Nn: losses, optimizers, clipping.
        yield return Row("Mse_Mismatch", () => Losses.MeanSquaredError(M(2), M(3)), typeof(ArgumentException), "(2)", "(3)");
        yield return Row("CrossEntropyLastStep_Rank", () => Losses.CrossEntropyLastStep(M(2, 3), [0, 1]), typeof(ArgumentException), "(2, 3)");
        yield return Row("Sgd_NullParameters", () => new Sgd<double>(null!, 0.1), typeof(ArgumentNullException));
        yield return Row("Sgd_NegativeLr", () => new Sgd<double>([M(1)], -0.1), typeof(ArgumentOutOfRangeException), "learning rate");
        yield return Row("Sgd_NegativeMomentum", () => new Sgd<double>([M(1)], 0.1, new SgdOptions(Momentum: -1)), typeof(ArgumentOutOfRangeException), "momentum");
        yield return Row("Adam_NaNLr", () => new Adam<double>([M(1)], double.NaN), typeof(ArgumentOutOfRangeException), "learning rate");
        yield return Row("Adam_Beta", () => new Adam<double>([M(1)], 0.1, new AdamOptions(Beta1: 1.0)), typeof(ArgumentOutOfRangeException), "beta1");
        yield return Row("ClipNorm_Zero", () => GradClip.ClipNorm([M(1)], 0.0), typeof(ArgumentOutOfRangeException), "maxNorm");
        yield return Row("ClipValue_Null", () => GradClip.ClipValue<double>(null!, 1.0), typeof(ArgumentNullException));
    }

    [TestCaseSource(nameof(Cases))]
    public void BadArgument_RaisesDocumentedException(Action call, Type exception, string[] mentions)
    {
        var ex = Assert.Catch(() => call());
        Assert.That(ex, Is.InstanceOf(exception), ex!.ToString());
        foreach (var m in mentions) Assert.That(ex.Message, Does.Contain(m));
        Assert.That(ex, Is.Not.InstanceOf<IndexOutOfRangeException>().And.Not.InstanceOf<NullReferenceException>());
    }

    [Test]
    public void FailedCalls_LeaveTensorsAndGraphUsable()
    {
        var a = Tensor.Randn<double>(new Random(1), 2, 3);
        a.RequiresGrad = true;
        var h = a.Tanh();
        var before = h.ToArray();
        Assert.Catch(() => _ = h + M(4));
        Assert.Catch(() => h.MatMul(M(2, 2)));
        Assert.Catch(() => h.Reshape(7));
        Assert.Catch(() => h.Backward());
        Assert.That(h.ToArray(), Is.EqualTo(before));
        h.Sum().Backward();
        var expected = before.Select(v => 1 - v * v).ToArray();
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(expected).Within(1e-15));

        var layer = new LstmLayer<double>(3, 2, new() { Carry = CarryMode.None });
        var x = Tensor.Ones<double>(1, 2, 4);
        var y1 = layer.Forward(x).ToArray();
        Assert.Catch(() => layer.Forward(M(1, 2, 5)));
        Assert.Catch(() => layer.LoadStateDict(new Dictionary<string, Tensor<double>>()));
        Assert.That(layer.Forward(x).ToArray(), Is.EqualTo(y1));
    }
}
