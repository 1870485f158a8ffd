using Autograd.Nn;

namespace Autograd.Tests.Reliability;

/// <summary>
/// Layers draw their temporaries from a pool that refills as backward releases the graph. Nothing a user holds
/// may ever show recycled memory: outputs, losses and results computed from them keep their values across
/// later training steps, and a parameter's Grad changes only by the documented in-place accumulation and zeroing.
/// </summary>
public class PoolingAliasTests
{
    [TestCase(CellKind.Lstm)]
    [TestCase(CellKind.Gru)]
    [TestCase(CellKind.Rnn)]
    public void HeldTensors_KeepTheirValues_AcrossLaterSteps(CellKind kind)
    {
        var layer = RecurrentCell.Get(kind).CreateLayer<float>(16, 11, new RecurrentOptions { Seed = 2, Carry = CarryMode.PerSequence });
        var rng = new Random(4);
        int[] Ids() => Enumerable.Range(0, 4 * 9).Select(_ => rng.Next(11)).ToArray();
        layer.Build(11);
        var sgd = new Sgd<float>(layer.Parameters(), 0.1f);

        var ids = Ids();
        var logits = layer.ForwardOneHot(ids, 4, 9, 11);
        var probabilities = logits.Softmax(-1);                 // a result the user derived from an output
        var loss = Losses.CrossEntropy(logits, Ids());
        loss.Backward();
        var grads = layer.Parameters().Select(p => p.Grad!).ToArray();
        var kept = (Logits: logits.ToArray(), Probabilities: probabilities.ToArray(), Loss: loss.Item(),
                    Grads: grads.Select(g => g.ToArray()).ToArray());
        sgd.Step();

        // A later forward pass (temporaries from the pool the first pass refilled) must not touch anything held,
        // not even the gradients.
        var second = layer.ForwardOneHot(Ids(), 4, 9, 11);
        Assert.That(grads.Select(g => g.ToArray()), Is.EqualTo(kept.Grads), "a forward pass never writes a held Grad");

        for (int step = 0; step < 5; step++)
        {
            sgd.ZeroGrad();
            Losses.CrossEntropy(step == 0 ? second : layer.ForwardOneHot(Ids(), 4, 9, 11), Ids()).Backward();
            sgd.Step();
        }
        Assert.That(logits.ToArray(), Is.EqualTo(kept.Logits), "the first step's output");
        Assert.That(probabilities.ToArray(), Is.EqualTo(kept.Probabilities), "a result computed from it");
        Assert.That(loss.Item(), Is.EqualTo(kept.Loss), "the first step's loss");
        // Grad is one persistent tensor per parameter (zero_grad(set_to_none=False)): the same objects, now
        // holding the last step's gradients, never anything else.
        Assert.That(layer.Parameters().Select(p => p.Grad), Is.EqualTo(grads).AsCollection.Using<Tensor<float>>((a, b) => ReferenceEquals(a, b) ? 0 : 1));
    }

    [Test]
    public void ATemporaryReadAfterItsStorageWasRecycled_Throws_InsteadOfShowingOtherData()
    {
        var w = Tensor.Randn<float>(new Random(1), 3, 3);
        w.RequiresGrad = true;
        Tensor<float> temporary;
        using (Tensor.Recycling())
        {
            temporary = (w * 2f).Tanh(); // a pooled temporary: the scope's contract is not to keep it
            temporary.Sum().Backward();
        }
        var ex = Assert.Throws<InvalidOperationException>(() => temporary.ToArray());
        Assert.That(ex!.Message, Does.Contain("recycled"));
        // Views of it say the same, not a shape error.
        foreach (var view in new Func<object>[] { () => temporary.Reshape(9), () => temporary.Detach(), () => temporary.Slice(0, 0, 1) })
            Assert.That(Assert.Throws<InvalidOperationException>(() => view())!.Message, Does.Contain("recycled"));
    }

    [Test]
    public void ADisposedResult_GoesToTheNextResultOfItsSize()
    {
        var w = Tensor.Randn<float>(new Random(6), 64, 32); // 2,048 elements: pooled even outside a Recycling scope
        w.RequiresGrad = true;
        var y = w * 2f;
        var storage = y.Storage;
        y.Sum().Backward();
        y.Dispose();
        var z = w * 3f;
        Assert.That(z.Storage, Is.SameAs(storage), "the disposed buffer is reused");
        Assert.That(z.ToArray(), Is.EqualTo(w.ToArray().Select(v => v * 3f)));
        Assert.That(Assert.Throws<InvalidOperationException>(() => y.ToArray())!.Message, Does.Contain("disposed"));
        Assert.That(Assert.Throws<InvalidOperationException>(() => y.Reshape(-1))!.Message, Does.Contain("disposed"));
        Assert.DoesNotThrow(y.Dispose, "twice");
    }

    [Test]
    public void DisposingBeforeBackward_WaitsForBackward_AndTheGradientsAreUnchanged()
    {
        var w = Tensor.Randn<float>(new Random(7), 64, 32);
        w.RequiresGrad = true;
        var y = w * 2f;
        var storage = y.Storage;
        var loss = (y * y).Sum();  // backward reads y: d/dw (2w)^2 = 8w
        y.Dispose();
        Assert.That(y.Storage, Is.SameAs(storage), "still held by the recorded graph");
        var other = w * 5f;        // a result made meanwhile must not get y's buffer
        Assert.That(other.Storage, Is.Not.SameAs(storage));
        loss.Backward();
        Assert.That(w.Grad!.ToArray(), Is.EqualTo(w.ToArray().Select(v => 8f * v)).Within(1e-4f));
        Assert.That((w * 3f).Storage, Is.SameAs(storage), "given back once backward has run it");
        Assert.That(other.ToArray(), Is.EqualTo(w.ToArray().Select(v => v * 5f)));
    }

    [Test]
    public void DisposingAGraphInput_WaitsForTheBackwardOfEveryOpThatReadsIt()
    {
        var w = Tensor.Randn<float>(new Random(9), 64, 32);
        w.RequiresGrad = true;
        var m = Tensor.Randn<float>(new Random(10), 64, 32); // a leaf without gradient, like a dropout mask
        var storage = m.Storage;
        var values = m.ToArray();
        var loss = (w * m).Sum() + (w * m * m).Sum();         // three ops read m
        m.Dispose();
        Assert.That((w * 5f).Storage, Is.Not.SameAs(storage), "still read by the recorded graph");
        loss.Backward();                                      // d/dw = m + m²
        Assert.That(w.Grad!.ToArray(), Is.EqualTo(values.Select(v => v + v * v)).Within(1e-5f));
        Assert.That((w * 3f).Storage, Is.SameAs(storage), "given back once backward has run every op that read it");
        Assert.That(Assert.Throws<InvalidOperationException>(() => m.ToArray())!.Message, Does.Contain("disposed"));
    }

    [Test]
    public void AViewTakenBeforeDispose_KeepsTheBuffer_UntilItIsDisposedToo()
    {
        using var _ = Tensor.NoGrad();
        var x = Tensor.Randn<float>(new Random(8), 64, 32);
        var y = x * 2f;
        var storage = y.Storage;
        var view = y.Reshape(2048);
        var expected = view.ToArray();
        y.Dispose();
        var z = x * 3f;
        Assert.That(z.Storage, Is.Not.SameAs(storage), "the view still reads it");
        Assert.That(view.ToArray(), Is.EqualTo(expected));
        view.Dispose();
        Assert.That((x * 4f).Storage, Is.SameAs(storage));
    }

    [TestCase(CellKind.Lstm)]
    [TestCase(CellKind.Rnn)]
    public void ALayerOutputDisposedEveryStep_LeavesWhatTheUserHoldsUntouched(CellKind kind)
    {
        var layer = RecurrentCell.Get(kind).CreateLayer<float>(16, 40, new RecurrentOptions { Seed = 3, Carry = CarryMode.PerSequence });
        layer.Build(40);
        var sgd = new Sgd<float>(layer.Parameters(), 0.1f);
        var rng = new Random(5);
        int[] Ids() => Enumerable.Range(0, 4 * 9).Select(_ => rng.Next(40)).ToArray();

        var first = layer.ForwardOneHot(Ids(), 4, 9, 40);      // (4, 9, 40) = 1,440 elements: pooled
        var probabilities = first.Softmax(-1);
        var flat = first.Reshape(36, 40);
        Losses.CrossEntropy(first, Ids()).Backward();
        var finalState = layer.FinalState!;
        var final = finalState.Select(s => s.ToArray()).ToArray();
        var kept = (Output: first.ToArray(), Probabilities: probabilities.ToArray());
        sgd.Step();
        first.Dispose();                                       // flat still holds the buffer

        for (int step = 0; step < 4; step++)
        {
            sgd.ZeroGrad();
            var output = layer.ForwardOneHot(Ids(), 4, 9, 40);
            Losses.CrossEntropy(output, Ids()).Backward();
            output.Dispose();
            sgd.Step();
        }
        Assert.That(flat.ToArray(), Is.EqualTo(kept.Output), "a view of the disposed first output");
        Assert.That(probabilities.ToArray(), Is.EqualTo(kept.Probabilities), "a result computed from it");
        Assert.That(finalState.Select(s => s.ToArray()), Is.EqualTo(final), "the first pass's final state");
    }

    [Test]
    public void StateTheUserWasGiven_SurvivesAReset_AndLaterSteps()
    {
        var layer = new LstmLayer<float>(32, 40, new RecurrentOptions { Seed = 4, Carry = CarryMode.PerSequence });
        layer.Build(40);
        var rng = new Random(11);
        int[] Ids() => Enumerable.Range(0, 4 * 9).Select(_ => rng.Next(40)).ToArray();
        Losses.CrossEntropy(layer.ForwardOneHot(Ids(), 4, 9, 40), Ids()).Backward();
        var final = layer.FinalState!;
        var carried = layer.CarriedState.ToArray();
        var expected = (Final: final.Select(t => t.ToArray()).ToArray(), Carried: carried.Select(t => t!.ToArray()).ToArray());
        layer.ResetState();
        for (int step = 0; step < 3; step++)
        {
            var output = layer.ForwardOneHot(Ids(), 4, 9, 40);
            Losses.CrossEntropy(output, Ids()).Backward();
            output.Dispose();
        }
        Assert.That(final.Select(t => t.ToArray()), Is.EqualTo(expected.Final));
        Assert.That(carried.Select(t => t!.ToArray()), Is.EqualTo(expected.Carried));
    }
}
