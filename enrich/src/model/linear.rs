//! A compact multi-class linear classifier over hashed features: weights quantised to `i16`,
//! laid out bucket-major so the scores of all classes for one feature are one contiguous read.
//!
//! File format (little endian): magic `VGLM`, version u16, classes u16, buckets u32, scale f32,
//! class names (u8 length + bytes each), biases (f32 × classes), weights (i16 × buckets × classes).

/// A trained linear model.
#[derive(Debug, Clone)]
pub struct LinearModel {
    /// Class names, in score order.
    pub classes: Vec<String>,
    /// Number of feature buckets.
    pub buckets: u32,
    scale: f32,
    bias: Vec<f32>,
    weights: Vec<i16>,
}

/// Why a model file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("model file: {0}")]
pub struct ModelError(String);

impl LinearModel {
    /// Builds a model from float weights (bucket-major: `weights[bucket * classes + class]`).
    pub fn from_f32(classes: Vec<String>, buckets: u32, bias: Vec<f32>, weights: &[f32]) -> Self {
        let max = weights.iter().fold(0f32, |m, w| m.max(w.abs())).max(1e-6);
        let scale = max / i16::MAX as f32;
        Self {
            classes,
            buckets,
            scale,
            bias,
            weights: weights.iter().map(|w| (w / scale).round() as i16).collect(),
        }
    }

    /// Adds `delta` to the bias of `class` (calibration after training: moves the point where
    /// two classes are equally probable).
    pub fn shift_bias(&mut self, class: usize, delta: f32) {
        if let Some(b) = self.bias.get_mut(class) {
            *b += delta;
        }
    }

    /// Adds the weights of `bucket` to `scores` (integer accumulation; see [`Self::finish`]).
    #[inline]
    pub fn add(&self, bucket: u32, scores: &mut [i32]) {
        let k = self.classes.len();
        let row = &self.weights[bucket as usize * k..bucket as usize * k + k];
        // Eight classes (the language model): a fixed width the compiler turns into one
        // vector addition.
        if let (Ok(row), Ok(scores)) = (
            <&[i16; 8]>::try_from(row),
            <&mut [i32; 8]>::try_from(&mut *scores),
        ) {
            for i in 0..8 {
                scores[i] += row[i] as i32;
            }
            return;
        }
        for (s, w) in scores.iter_mut().zip(row) {
            *s += *w as i32;
        }
    }

    /// Turns integer scores accumulated over `n_features` features into float logits: the
    /// feature sum is scaled by 1/sqrt(n_features), as in training, and the biases added.
    pub fn finish(&self, acc: &[i32], n_features: usize, out: &mut [f32]) {
        let norm = self.scale / (n_features.max(1) as f32).sqrt();
        for ((o, a), b) in out.iter_mut().zip(acc).zip(&self.bias) {
            *o = *a as f32 * norm + b;
        }
    }

    /// Class probabilities for a list of feature buckets, written to `out` (one per class):
    /// accumulate, scale, add biases, softmax.
    pub fn probabilities(&self, buckets: &[u32], out: &mut [f32]) {
        let mut acc = [0i32; 16];
        let k = self.classes.len().min(16);
        // The sentiment (3 classes) and toxicity (2) models: rows of a size known when
        // compiling, without a bounds check per weight.
        match k {
            2 => self.accumulate::<2>(buckets, &mut acc),
            3 => self.accumulate::<3>(buckets, &mut acc),
            _ => {
                for &b in buckets {
                    self.add(b, &mut acc[..k]);
                }
            }
        }
        self.finish(&acc[..k], buckets.len(), out);
        softmax(out);
    }

    /// Sums the rows of `buckets` into `acc[..K]`, for a model of `K` classes.
    #[inline]
    fn accumulate<const K: usize>(&self, buckets: &[u32], acc: &mut [i32; 16]) {
        let mut sum = [0i32; K];
        for &b in buckets {
            let start = b as usize * K;
            if let Some(row) = self.weights.get(start..start + K) {
                for (s, w) in sum.iter_mut().zip(row) {
                    *s += *w as i32;
                }
            }
        }
        acc[..K].copy_from_slice(&sum);
    }

    /// Serialises the model.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.weights.len() * 2);
        out.extend_from_slice(b"VGLM");
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&(self.classes.len() as u16).to_le_bytes());
        out.extend_from_slice(&self.buckets.to_le_bytes());
        out.extend_from_slice(&self.scale.to_le_bytes());
        for c in &self.classes {
            out.push(c.len() as u8);
            out.extend_from_slice(c.as_bytes());
        }
        for b in &self.bias {
            out.extend_from_slice(&b.to_le_bytes());
        }
        for w in &self.weights {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// Reads a model written by [`Self::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(4)? != b"VGLM" {
            return Err(ModelError("not a Vigie linear model (bad magic)".into()));
        }
        let version = u16::from_le_bytes(r.array()?);
        if version != 1 {
            return Err(ModelError(format!("unsupported version {version}")));
        }
        let k = u16::from_le_bytes(r.array()?) as usize;
        let buckets = u32::from_le_bytes(r.array()?);
        let scale = f32::from_le_bytes(r.array()?);
        let mut classes = Vec::with_capacity(k);
        for _ in 0..k {
            let len = r.take(1)?[0] as usize;
            classes.push(String::from_utf8_lossy(r.take(len)?).into_owned());
        }
        let bias = (0..k)
            .map(|_| r.array().map(f32::from_le_bytes))
            .collect::<Result<Vec<_>, _>>()?;
        let n = buckets as usize * k;
        let raw = r.take(n * 2)?;
        let weights = raw
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        Ok(Self {
            classes,
            buckets,
            scale,
            bias,
            weights,
        })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let end = self.at + n;
        let s = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| ModelError("truncated".into()))?;
        self.at = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ModelError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
}

/// Softmax of logits, in place.
pub fn softmax(v: &mut [f32]) {
    let max = v.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}

/// Trains a multinomial logistic regression with averaged SGD over sparse bucket features.
/// Deterministic: examples are visited in an order shuffled by a fixed seed.
pub fn train(
    classes: Vec<String>,
    buckets: u32,
    examples: &[(Vec<u32>, usize)],
    epochs: usize,
    learning_rate: f32,
    l2: f32,
    class_weights: Option<&[f32]>,
) -> LinearModel {
    let k = classes.len();
    let mut w = vec![0f32; buckets as usize * k];
    let mut b = vec![0f32; k];
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut probs = vec![0f32; k];
    // Averaging: accumulate weights after each epoch.
    let mut w_sum = vec![0f32; w.len()];
    let mut b_sum = vec![0f32; k];
    for epoch in 0..epochs {
        for i in (1..order.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            order.swap(i, (seed % (i as u64 + 1)) as usize);
        }
        let lr = learning_rate / (1.0 + epoch as f32 * 0.5);
        for &i in &order {
            let (features, label) = &examples[i];
            if features.is_empty() {
                continue;
            }
            let norm = 1.0 / (features.len() as f32).sqrt();
            for (c, p) in probs.iter_mut().enumerate() {
                *p = b[c] + features.iter().map(|&f| w[f as usize * k + c]).sum::<f32>() * norm;
            }
            softmax(&mut probs);
            let cw = class_weights.map(|cw| cw[*label]).unwrap_or(1.0);
            for c in 0..k {
                let g = (probs[c] - if c == *label { 1.0 } else { 0.0 }) * cw;
                b[c] -= lr * g;
                for &f in features {
                    let idx = f as usize * k + c;
                    w[idx] -= lr * (g * norm + l2 * w[idx]);
                }
            }
        }
        for (s, x) in w_sum.iter_mut().zip(&w) {
            *s += x;
        }
        for (s, x) in b_sum.iter_mut().zip(&b) {
            *s += x;
        }
    }
    let n = epochs.max(1) as f32;
    let w_avg: Vec<f32> = w_sum.iter().map(|x| x / n).collect();
    let b_avg: Vec<f32> = b_sum.iter().map(|x| x / n).collect();
    LinearModel::from_f32(classes, buckets, b_avg, &w_avg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_separable_problem_and_round_trips() {
        let examples: Vec<(Vec<u32>, usize)> = (0..200)
            .map(|i| (vec![(i % 2) as u32, 2 + (i % 7) as u32], i % 2))
            .collect();
        let model = train(vec!["a".into(), "b".into()], 16, &examples, 5, 0.5, 0.0, None);
        let model = LinearModel::from_bytes(&model.to_bytes()).unwrap();
        for (features, label) in examples.iter().take(10) {
            let mut acc = vec![0i32; 2];
            for &f in features {
                model.add(f, &mut acc);
            }
            let mut logits = vec![0f32; 2];
            model.finish(&acc, features.len(), &mut logits);
            let best = if logits[0] > logits[1] { 0 } else { 1 };
            assert_eq!(best, *label);
        }
        assert!(LinearModel::from_bytes(b"nope").is_err());
    }
}
