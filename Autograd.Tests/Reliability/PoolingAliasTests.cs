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
}
