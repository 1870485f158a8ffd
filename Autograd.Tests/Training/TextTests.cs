using System.Text;
using Autograd.CharLm;

namespace Autograd.Tests.Training;

[TestFixture]
public class VocabularyTests
{
    [Test]
    public void SymbolsAreDistinctAndSortedByCodePoint()
    {
        var v = Vocabulary.FromText("abcdba");
        Assert.That(v.Count, Is.EqualTo(4));
        Assert.That(v.Symbols, Is.EqualTo("abcd"));
        Assert.That(v.Encode("abcdba"), Is.EqualTo(new[] { 0, 1, 2, 3, 1, 0 }));
        Assert.That(v.Decode(new[] { 3, 2, 1 }), Is.EqualTo("dcb"));
    }

    [Test]
    public void CharactersOutsideTheBmpAreOneSymbol()
    {
        string text = "b\U0001F600a\u00e9\n";
        var v = Vocabulary.FromText(text);
        Assert.That(v.Count, Is.EqualTo(5));
        // Code-point order: '\n' (0x0A) < 'a' < 'b' < 'é' (0xE9) < U+1F600.
        Assert.That(v.Encode(text), Is.EqualTo(new[] { 2, 4, 1, 3, 0 }));
        Assert.That(v.Decode(v.Encode(text)), Is.EqualTo(text));
        Assert.That(v[4], Is.EqualTo(new Rune(0x1F600)));
    }

    [Test]
    public void SymbolsRoundTripThroughFromSymbols()
    {
        var v = Vocabulary.FromText("hello, world\n\U0001F600");
        var w = Vocabulary.FromSymbols(v.Symbols);
        Assert.That(w.Symbols, Is.EqualTo(v.Symbols));
        Assert.That(w.Count, Is.EqualTo(v.Count));
    }

    [TestCase("")]
    [TestCase("aa")]
    [TestCase("ba")]
    [TestCase("a\ud800")]
    public void FromSymbolsRejectsMalformedLists(string symbols)
        => Assert.Throws<ArgumentException>(() => Vocabulary.FromSymbols(symbols));

    [Test]
    public void UnknownSymbolNamesCharacterAndOffset()
    {
        var v = Vocabulary.FromText("ab");
        var e = Assert.Throws<UnknownSymbolException>(() => v.Encode("abz", "eval.txt"));
        Assert.That(e!.Offset, Is.EqualTo(2));
        Assert.That(e.Symbol, Is.EqualTo(new Rune('z')));
        Assert.That(e.Message, Does.Contain("'z' (U+007A)").And.Contain("eval.txt"));
    }
}

[TestFixture]
public class TextCorpusTests
{
    [Test]
    public void DecodeDropsByteOrderMark()
        => Assert.That(TextCorpus.Decode([0xEF, 0xBB, 0xBF, (byte)'h', (byte)'i'], "x"), Is.EqualTo("hi"));

    [Test]
    public void DecodeReadsMultiByteUtf8()
        => Assert.That(TextCorpus.Decode([0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80], "x"), Is.EqualTo("\u00e9\U0001F600"));

    [TestCase(new byte[0], "empty")]
    [TestCase(new byte[] { 0xEF, 0xBB, 0xBF }, "empty")]
    [TestCase(new byte[] { (byte)'a', 0, (byte)'b' }, "binary")]
    [TestCase(new byte[] { (byte)'a', 0xC3, 0x28 }, "UTF-8")]
    [TestCase(new byte[] { 0xFF, 0xFE, (byte)'a' }, "UTF-8")]
    [TestCase(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, (byte)'a' }, "control characters")]
    public void DecodeRefusesNonText(byte[] bytes, string fragment)
    {
        var e = Assert.Throws<CorpusException>(() => TextCorpus.Decode(bytes, "data.bin"));
        Assert.That(e!.Message, Does.Contain(fragment).And.StartWith("data.bin: "));
    }

    [Test]
    public void SplitIsByPosition()
    {
        var ids = Enumerable.Range(0, 20).ToArray();
        var (train, validation) = TextCorpus.Split(ids, 0.9);
        Assert.That(train, Is.EqualTo(Enumerable.Range(0, 18).ToArray()));
        Assert.That(validation, Is.EqualTo(new[] { 18, 19 }));
    }

    [Test]
    public void LoadFileRefusesMissingFileAndDirectory()
    {
        Assert.Throws<FileNotFoundException>(() => TextCorpus.LoadFile(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString())));
        Assert.Throws<CorpusException>(() => TextCorpus.LoadFile(Path.GetTempPath()));
    }
}

[TestFixture]
public class SequenceBatcherTests
{
    [Test]
    public void BatchesAreContiguousStreamsShiftedByOne()
    {
        // 21 symbols, 2 streams of (21 - 1) / 2 = 10, sequence length 3: 3 batches per epoch.
        var data = Enumerable.Range(0, 21).ToArray();
        var batcher = new SequenceBatcher(data, batchSize: 2, sequenceLength: 3);
        Assert.That(batcher.BatchesPerEpoch, Is.EqualTo(3));
        var x = new int[6];
        var y = new int[6];

        Assert.That(batcher.Next(x, y), Is.True);
        Assert.That(x, Is.EqualTo(new[] { 0, 1, 2, 10, 11, 12 }));
        Assert.That(y, Is.EqualTo(new[] { 1, 2, 3, 11, 12, 13 }));

        Assert.That(batcher.Next(x, y), Is.False);
        Assert.That(x, Is.EqualTo(new[] { 3, 4, 5, 13, 14, 15 }));

        Assert.That(batcher.Next(x, y), Is.False);
        Assert.That(x, Is.EqualTo(new[] { 6, 7, 8, 16, 17, 18 }));
        Assert.That(y, Is.EqualTo(new[] { 7, 8, 9, 17, 18, 19 }));

        Assert.That(batcher.Next(x, y), Is.True, "fourth batch starts the next epoch");
        Assert.That(x, Is.EqualTo(new[] { 0, 1, 2, 10, 11, 12 }));
    }

    [Test]
    public void SeekResumesAtTheSameBatch()
    {
        var data = Enumerable.Range(0, 50).ToArray();
        var a = new SequenceBatcher(data, 3, 4);
        var xa = new int[12]; var ya = new int[12];
        for (int i = 0; i < 5; i++) a.Next(xa, ya);
        a.Next(xa, ya);

        var b = new SequenceBatcher(data, 3, 4);
        b.Seek(5);
        var xb = new int[12]; var yb = new int[12];
        b.Next(xb, yb);
        Assert.That(xb, Is.EqualTo(xa));
        Assert.That(yb, Is.EqualTo(ya));
        Assert.That(b.Position, Is.EqualTo(6));
    }

    [Test]
    public void TooShortDataIsRefused()
    {
        Assert.Throws<ArgumentException>(() => new SequenceBatcher(new int[6], 2, 3));
        Assert.DoesNotThrow(() => new SequenceBatcher(new int[7], 2, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SequenceBatcher(new int[7], 0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SequenceBatcher(new int[7], 2, -1));
    }
}
