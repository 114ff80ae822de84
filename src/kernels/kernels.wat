;; SIMD kernels for the hot loops of coreml-quantize. Each works on one run of at
;; most 16384 values that the JavaScript side (wasm-kernels.ts) has copied into this
;; module's memory; results go back the same way. Every result is bit-identical to
;; the JavaScript kernels (js-kernels.ts): the same IEEE operations in the same order
;; (float64 where the quantizers use float64), and the error sums use two lanes
;; chosen by the parity of each value's position in its tensor.
;;
;; The matrix product and the depthwise convolution at the end (the executor's) run
;; on an instance of their own, whose memory the JavaScript side grows as needed
;; (wasm-products.ts); they round every step to float32 in a fixed order that
;; js-matmul.ts and js-depthwise.ts repeat.
;;
;; Built into src/gen/kernels_wasm.ts by scripts/build-kernels.js (npm run generate).
(module
  (memory (export "memory") 4)

  ;; Per-lane minimum and maximum of n float32 at $p, and a NaN-detecting sum of
  ;; v - v. Writes [min x4, max x4, check x4] (48 bytes) at $out.
  (func (export "range") (param $p i32) (param $n i32) (param $out i32)
    (local $end i32) (local $v v128) (local $lo v128) (local $hi v128) (local $check v128)
    (local.set $lo (f32x4.splat (f32.const inf)))
    (local.set $hi (f32x4.splat (f32.const -inf)))
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $v (v128.load (local.get $p)))
        (local.set $lo (f32x4.pmin (local.get $lo) (local.get $v)))
        (local.set $hi (f32x4.pmax (local.get $hi) (local.get $v)))
        (local.set $check (f32x4.add (local.get $check) (f32x4.sub (local.get $v) (local.get $v))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next)))
    ;; The last n mod 4 values, one lane each.
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $v (v128.load32_splat (local.get $p)))
        (local.set $lo (f32x4.pmin (local.get $lo) (local.get $v)))
        (local.set $hi (f32x4.pmax (local.get $hi) (local.get $v)))
        (local.set $check (f32x4.add (local.get $check) (f32x4.sub (local.get $v) (local.get $v))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $next)))
    (v128.store (local.get $out) (local.get $lo))
    (v128.store offset=16 (local.get $out) (local.get $hi))
    (v128.store offset=32 (local.get $out) (local.get $check)))

;; Indices of n float32 at $p: roundHalfEven((w - a) * inv) (the linear quantizer's
  ;; float64 arithmetic), one byte each at $q. With $divide set: roundHalfEven((w - a) / inv)
  ;; (the symmetric quantizer divides by its step). Adding 1.5 * 2^52 rounds a lane to
  ;; an integer, ties to even, and leaves it in the lane's low bits.
  (func (export "indices") (param $p i32) (param $n i32) (param $q i32) (param $a f64) (param $inv f64) (param $divide i32)
    (local $end i32) (local $v v128) (local $x v128) (local $y v128) (local $A v128) (local $I v128) (local $R v128)
    (local.set $A (f64x2.splat (local.get $a)))
    (local.set $I (f64x2.splat (local.get $inv)))
    (local.set $R (f64x2.splat (f64.const 6755399441055744)))
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (if (local.get $divide)
      (then
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $v (v128.load (local.get $p)))
            (local.set $x (f64x2.add (f64x2.div (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $A)) (local.get $I)) (local.get $R)))
            (local.set $y (f64x2.add (f64x2.div (f64x2.sub (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $A)) (local.get $I)) (local.get $R)))
            ;; The low byte of each rounded lane, in order.
            (v128.store32_lane 0 (local.get $q) (i8x16.shuffle 0 8 16 24 0 0 0 0 0 0 0 0 0 0 0 0 (local.get $x) (local.get $y)))
            (local.set $q (i32.add (local.get $q) (i32.const 4)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $next))))
      (else
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $v (v128.load (local.get $p)))
            (local.set $x (f64x2.add (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $A)) (local.get $I)) (local.get $R)))
            (local.set $y (f64x2.add (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $A)) (local.get $I)) (local.get $R)))
            (v128.store32_lane 0 (local.get $q) (i8x16.shuffle 0 8 16 24 0 0 0 0 0 0 0 0 0 0 0 0 (local.get $x) (local.get $y)))
            (local.set $q (i32.add (local.get $q) (i32.const 4)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $next)))))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (f64x2.sub (f64x2.splat (f64.promote_f32 (f32.load (local.get $p)))) (local.get $A)))
        (local.set $x (if (result v128) (local.get $divide)
          (then (f64x2.div (local.get $x) (local.get $I)))
          (else (f64x2.mul (local.get $x) (local.get $I)))))
        (v128.store8_lane 0 (local.get $q) (f64x2.add (local.get $x) (local.get $R)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $next))))

  ;; Linear dequantization of n indices at $q: float32(q * s + b), float64 arithmetic,
  ;; written as float32 at $out.
  (func (export "dequantizeLinear") (param $q i32) (param $n i32) (param $out i32) (param $s f64) (param $b f64)
    (local $end i32) (local $wide v128) (local $S v128) (local $B v128) (local $lo v128) (local $hi v128)
    (local.set $S (f64x2.splat (local.get $s)))
    (local.set $B (f64x2.splat (local.get $b)))
    (local.set $end (i32.add (local.get $q) (i32.and (local.get $n) (i32.const -4))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $q) (local.get $end)))
        ;; Four indices widened to four 32-bit lanes.
        (local.set $wide (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $q)))))
        (local.set $lo (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul
          (f64x2.convert_low_i32x4_u (local.get $wide)) (local.get $S)) (local.get $B))))
        (local.set $hi (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul
          (f64x2.convert_low_i32x4_u (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $wide) (local.get $wide)))
          (local.get $S)) (local.get $B))))
        (v128.store (local.get $out)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $lo) (local.get $hi)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (br $next)))
    (local.set $end (i32.add (local.get $end) (i32.and (local.get $n) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $q) (local.get $end)))
        (f32.store (local.get $out) (f32.demote_f64 (f64.add (f64.mul
          (f64.convert_i32_u (i32.load8_u (local.get $q))) (local.get $s)) (local.get $b))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $next))))

  ;; Adds one pair of float64 lanes (x original, y reconstruction) to the seven
  ;; two-lane sums at $sums: signal Σx², noise Σ(y-x)², peak max|x|, max |y-x|,
  ;; dot Σxy, energy Σy², and a NaN-detecting Σ(n - n).
  (func $addPair (param $x v128) (param $y v128) (param $sums i32)
    (local $d v128)
    (local.set $d (f64x2.sub (local.get $y) (local.get $x)))
    (v128.store offset=0 (local.get $sums) (f64x2.add (v128.load offset=0 (local.get $sums)) (f64x2.mul (local.get $x) (local.get $x))))
    (v128.store offset=16 (local.get $sums) (f64x2.add (v128.load offset=16 (local.get $sums)) (f64x2.mul (local.get $d) (local.get $d))))
    (v128.store offset=32 (local.get $sums) (f64x2.pmax (v128.load offset=32 (local.get $sums)) (f64x2.abs (local.get $x))))
    (v128.store offset=48 (local.get $sums) (f64x2.pmax (v128.load offset=48 (local.get $sums)) (f64x2.abs (local.get $d))))
    (v128.store offset=64 (local.get $sums) (f64x2.add (v128.load offset=64 (local.get $sums)) (f64x2.mul (local.get $x) (local.get $y))))
    (v128.store offset=80 (local.get $sums) (f64x2.add (v128.load offset=80 (local.get $sums)) (f64x2.mul (local.get $y) (local.get $y))))
    (v128.store offset=96 (local.get $sums) (f64x2.add (v128.load offset=96 (local.get $sums)) (f64x2.sub (local.get $d) (local.get $d)))))

  ;; The error sums of n float32 pairs (x at $x, y at $y) added to the sums at $sums,
  ;; the first value going to lane $parity (its position's parity in the tensor).
  ;; A value alone in its pair meets zeros in the other lane, which change no sum.
  (func (export "errorSums") (param $x i32) (param $y i32) (param $n i32) (param $parity i32) (param $sums i32)
    (local $end i32) (local $signal v128) (local $noise v128) (local $peak v128) (local $worst v128)
    (local $dot v128) (local $energy v128) (local $check v128) (local $a v128) (local $b v128) (local $d v128)
    (if (i32.and (i32.ne (local.get $n) (i32.const 0)) (local.get $parity))
      (then
        (call $addPair
          (f64x2.replace_lane 1 (f64x2.splat (f64.const 0)) (f64.promote_f32 (f32.load (local.get $x))))
          (f64x2.replace_lane 1 (f64x2.splat (f64.const 0)) (f64.promote_f32 (f32.load (local.get $y))))
          (local.get $sums))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $y (i32.add (local.get $y) (i32.const 4)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))))
    ;; Pairs, with the sums in locals.
    (local.set $signal (v128.load offset=0 (local.get $sums)))
    (local.set $noise (v128.load offset=16 (local.get $sums)))
    (local.set $peak (v128.load offset=32 (local.get $sums)))
    (local.set $worst (v128.load offset=48 (local.get $sums)))
    (local.set $dot (v128.load offset=64 (local.get $sums)))
    (local.set $energy (v128.load offset=80 (local.get $sums)))
    (local.set $check (v128.load offset=96 (local.get $sums)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $a (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $x))))
        (local.set $b (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $y))))
        (local.set $d (f64x2.sub (local.get $b) (local.get $a)))
        (local.set $signal (f64x2.add (local.get $signal) (f64x2.mul (local.get $a) (local.get $a))))
        (local.set $noise (f64x2.add (local.get $noise) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $peak (f64x2.pmax (local.get $peak) (f64x2.abs (local.get $a))))
        (local.set $worst (f64x2.pmax (local.get $worst) (f64x2.abs (local.get $d))))
        (local.set $dot (f64x2.add (local.get $dot) (f64x2.mul (local.get $a) (local.get $b))))
        (local.set $energy (f64x2.add (local.get $energy) (f64x2.mul (local.get $b) (local.get $b))))
        (local.set $check (f64x2.add (local.get $check) (f64x2.sub (local.get $d) (local.get $d))))
        (local.set $x (i32.add (local.get $x) (i32.const 8)))
        (local.set $y (i32.add (local.get $y) (i32.const 8)))
        (br $next)))
    (v128.store offset=0 (local.get $sums) (local.get $signal))
    (v128.store offset=16 (local.get $sums) (local.get $noise))
    (v128.store offset=32 (local.get $sums) (local.get $peak))
    (v128.store offset=48 (local.get $sums) (local.get $worst))
    (v128.store offset=64 (local.get $sums) (local.get $dot))
    (v128.store offset=80 (local.get $sums) (local.get $energy))
    (v128.store offset=96 (local.get $sums) (local.get $check))
    ;; An odd one out lands in lane 0.
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (call $addPair
          (f64x2.replace_lane 0 (f64x2.splat (f64.const 0)) (f64.promote_f32 (f32.load (local.get $x))))
          (f64x2.replace_lane 0 (f64x2.splat (f64.const 0)) (f64.promote_f32 (f32.load (local.get $y))))
          (local.get $sums)))))

;; Half-precision bits of n float32 at $p (round to nearest even), written as
  ;; 16-bit values at $out, with [per-lane largest magnitude bits x4] at $info (NaN
  ;; orders above infinity). Magnitudes of 65536 or more, infinities and NaN get only
  ;; their sign bit: the caller sees them in the largest magnitude and converts them
  ;; one by one. A run ends on a whole vector; the caller's buffers have room.
  (func (export "encodeHalves") (param $p i32) (param $n i32) (param $out i32) (param $info i32)
    (local $end i32) (local $x v128) (local $magnitude v128) (local $peak v128) (local $normal v128) (local $small v128)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (v128.load (local.get $p)))
        (local.set $magnitude (v128.and (local.get $x) (i32x4.splat (i32.const 0x7fffffff))))
        (local.set $peak (i32x4.max_u (local.get $peak) (local.get $magnitude)))
        ;; Normal halves: 2^-14 <= |x| < 2^16. Add 0xfff plus the lowest kept bit, drop 13 bits.
        (local.set $normal (i32x4.lt_u
          (i32x4.sub (local.get $magnitude) (i32x4.splat (i32.const 0x38800000)))
          (i32x4.splat (i32.const 0x0f000000))))
        (local.set $small (i32x4.lt_u (local.get $magnitude) (i32x4.splat (i32.const 0x38800000))))
        (v128.store64_lane 0 (local.get $out) (i16x8.narrow_i32x4_u
          (v128.or
            (v128.and (i32x4.shr_u (local.get $x) (i32.const 16)) (i32x4.splat (i32.const 0x8000)))
            (v128.or
              (v128.and (local.get $normal)
                (i32x4.shr_u
                  (i32x4.add
                    (i32x4.add (local.get $magnitude) (i32x4.splat (i32.const 0xc8000fff))) ;; - 0x38000000 + 0xfff
                    (v128.and (i32x4.shr_u (local.get $magnitude) (i32.const 13)) (i32x4.splat (i32.const 1))))
                  (i32.const 13)))
              ;; Subnormal halves and zeros: |x| / 2^-24 rounded to an integer, ties to
              ;; even, by adding 2^23 (below 1025, the integer lands in the low bits).
              (v128.and (local.get $small)
                (i32x4.sub
                  (f32x4.add (f32x4.mul (local.get $magnitude) (f32x4.splat (f32.const 0x1p24))) (f32x4.splat (f32.const 0x1p23)))
                  (i32x4.splat (i32.const 0x4b000000))))))
          (local.get $x)))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next)))
    (v128.store (local.get $info) (local.get $peak)))

  ;; Float32 bits of n half-precision values at $h, written at $out (exact). A run
  ;; ends on a whole vector; the caller's buffers have room.
  (func (export "decodeHalves") (param $h i32) (param $n i32) (param $out i32)
    (local $end i32) (local $x v128) (local $exponent v128) (local $mantissa v128)
    (local.set $end (i32.add (local.get $h) (i32.shl (local.get $n) (i32.const 1))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $h) (local.get $end)))
        (local.set $x (i32x4.extend_low_i16x8_u (v128.load64_zero (local.get $h))))
        (local.set $exponent (v128.and (local.get $x) (i32x4.splat (i32.const 0x7c00))))
        (local.set $mantissa (v128.and (local.get $x) (i32x4.splat (i32.const 0x3ff))))
        (v128.store (local.get $out)
          (v128.or (i32x4.shl (v128.and (local.get $x) (i32x4.splat (i32.const 0x8000))) (i32.const 16))
            (v128.bitselect
              ;; Subnormals and zeros: mantissa * 2^-24, exact in float32.
              (f32x4.mul (f32x4.convert_i32x4_s (local.get $mantissa)) (f32x4.splat (f32.const 0x1p-24)))
              (v128.bitselect
                ;; Infinities and NaN: the top exponent, the payload shifted up.
                (v128.or (i32x4.splat (i32.const 0x7f800000)) (i32x4.shl (local.get $mantissa) (i32.const 13)))
                ;; Normal: rebias the exponent (112 = 127 - 15).
                (i32x4.shl (i32x4.add (v128.and (local.get $x) (i32x4.splat (i32.const 0x7fff))) (i32x4.splat (i32.const 0x1c000))) (i32.const 13))
                (i32x4.eq (local.get $exponent) (i32x4.splat (i32.const 0x7c00))))
              (i32x4.eq (local.get $exponent) (i32x4.splat (i32.const 0))))))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $h (i32.add (local.get $h) (i32.const 8)))
        (br $next))))

  ;; Matrix products, float32: every output starts from its initial value and adds
  ;; a[i, t] * b[t, j] for t = 0, 1, ..., k - 1 in that order, rounding the product
  ;; and the sum to float32 at each step (no fused multiply-add), so a plain loop in
  ;; JavaScript with Math.fround gives the same bits. The SIMD lanes are four
  ;; neighbouring columns j, each with its own sum.
  ;;
  ;; A tile of 4 rows x 8 columns of c: rows of a at $a (row stride $lda bytes), b at
  ;; $b (row stride $ldb bytes), c at $c (row stride $ldc bytes). $mode says where the
  ;; sums start: 0 the values in c (a product continued over more of k), 1 one value
  ;; per row at $bias, 2 one value per column at $bias, 3 zero. Columns past the
  ;; caller's n compute whatever b holds there; the caller ignores them.
  (func $tile4x8 (param $a i32) (param $lda i32) (param $b i32) (param $ldb i32) (param $c i32) (param $ldc i32)
    (param $k i32) (param $mode i32) (param $bias i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $end i32) (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $x v128) (local $b0 v128) (local $b1 v128)
    (local $s00 v128) (local $s01 v128) (local $s10 v128) (local $s11 v128)
    (local $s20 v128) (local $s21 v128) (local $s30 v128) (local $s31 v128)
    (local.set $c1 (i32.add (local.get $c) (local.get $ldc)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $ldc)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $ldc)))
    (if (i32.eqz (local.get $mode))
      (then
        (local.set $s00 (v128.load (local.get $c))) (local.set $s01 (v128.load offset=16 (local.get $c)))
        (local.set $s10 (v128.load (local.get $c1))) (local.set $s11 (v128.load offset=16 (local.get $c1)))
        (local.set $s20 (v128.load (local.get $c2))) (local.set $s21 (v128.load offset=16 (local.get $c2)))
        (local.set $s30 (v128.load (local.get $c3))) (local.set $s31 (v128.load offset=16 (local.get $c3))))
      (else (if (i32.eq (local.get $mode) (i32.const 1))
        (then
          (local.set $s00 (v128.load32_splat (local.get $bias))) (local.set $s01 (local.get $s00))
          (local.set $s10 (v128.load32_splat offset=4 (local.get $bias))) (local.set $s11 (local.get $s10))
          (local.set $s20 (v128.load32_splat offset=8 (local.get $bias))) (local.set $s21 (local.get $s20))
          (local.set $s30 (v128.load32_splat offset=12 (local.get $bias))) (local.set $s31 (local.get $s30)))
        (else (if (i32.eq (local.get $mode) (i32.const 2))
          (then
            (local.set $s00 (v128.load (local.get $bias))) (local.set $s01 (v128.load offset=16 (local.get $bias)))
            (local.set $s10 (local.get $s00)) (local.set $s11 (local.get $s01))
            (local.set $s20 (local.get $s00)) (local.set $s21 (local.get $s01))
            (local.set $s30 (local.get $s00)) (local.set $s31 (local.get $s01))))))))
    (local.set $a1 (i32.add (local.get $a) (local.get $lda)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $lda)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $lda)))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $k) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $b0 (v128.load (local.get $b)))
        (local.set $b1 (v128.load offset=16 (local.get $b)))
        (local.set $x (v128.load32_splat (local.get $a)))
        (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat (local.get $a1)))
        (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat (local.get $a2)))
        (local.set $s20 (f32x4.add (local.get $s20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $s21 (f32x4.add (local.get $s21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat (local.get $a3)))
        (local.set $s30 (f32x4.add (local.get $s30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $s31 (f32x4.add (local.get $s31) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $a1 (i32.add (local.get $a1) (i32.const 4)))
        (local.set $a2 (i32.add (local.get $a2) (i32.const 4)))
        (local.set $a3 (i32.add (local.get $a3) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (local.get $ldb)))
        (br $next)))
    (v128.store (local.get $c) (local.get $s00)) (v128.store offset=16 (local.get $c) (local.get $s01))
    (v128.store (local.get $c1) (local.get $s10)) (v128.store offset=16 (local.get $c1) (local.get $s11))
    (v128.store (local.get $c2) (local.get $s20)) (v128.store offset=16 (local.get $c2) (local.get $s21))
    (v128.store (local.get $c3) (local.get $s30)) (v128.store offset=16 (local.get $c3) (local.get $s31)))

  ;; One row x 8 columns, as $tile4x8.
  (func $tile1x8 (param $a i32) (param $b i32) (param $ldb i32) (param $c i32)
    (param $k i32) (param $mode i32) (param $bias i32)
    (local $end i32) (local $x v128) (local $s0 v128) (local $s1 v128)
    (if (i32.eqz (local.get $mode))
      (then (local.set $s0 (v128.load (local.get $c))) (local.set $s1 (v128.load offset=16 (local.get $c))))
      (else (if (i32.eq (local.get $mode) (i32.const 1))
        (then (local.set $s0 (v128.load32_splat (local.get $bias))) (local.set $s1 (local.get $s0)))
        (else (if (i32.eq (local.get $mode) (i32.const 2))
          (then (local.set $s0 (v128.load (local.get $bias))) (local.set $s1 (v128.load offset=16 (local.get $bias)))))))))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $k) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $x (v128.load32_splat (local.get $a)))
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $x) (v128.load (local.get $b)))))
        (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $x) (v128.load offset=16 (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (local.get $ldb)))
        (br $next)))
    (v128.store (local.get $c) (local.get $s0))
    (v128.store offset=16 (local.get $c) (local.get $s1)))

  ;; c (m x n) = start + a (m x k) . b (k x n), row strides $lda, $ldb, $ldc in
  ;; values, $mode and $bias as for $tile4x8 ($bias: the value of row 0 or column 0).
  ;; Works in tiles of 8 columns: c's rows need room up to a multiple of 8 columns,
  ;; b 8 values of slack after its last row, and a column bias 8 after its last value.
  (func (export "matmul") (param $m i32) (param $n i32) (param $k i32) (param $a i32) (param $lda i32)
    (param $b i32) (param $ldb i32) (param $c i32) (param $ldc i32) (param $bias i32) (param $mode i32)
    (local $i i32) (local $j i32) (local $rowA i32) (local $rowC i32) (local $rowBias i32)
    (local.set $lda (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $m)))
        (local.set $rowA (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))))
        (local.set $rowC (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (local.set $rowBias (i32.add (local.get $bias) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $j) (local.get $n)))
            (call $tile4x8 (local.get $rowA) (local.get $lda)
              (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
              (i32.add (local.get $rowC) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldc)
              (local.get $k) (local.get $mode)
              (select (local.get $rowBias) (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))
                (i32.eq (local.get $mode) (i32.const 1))))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rows)))
    ;; The last rows, one at a time.
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $rowA (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))))
        (local.set $rowC (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (local.set $rowBias (i32.add (local.get $bias) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $j) (local.get $n)))
            (call $tile1x8 (local.get $rowA)
              (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
              (i32.add (local.get $rowC) (i32.shl (local.get $j) (i32.const 2)))
              (local.get $k) (local.get $mode)
              (select (local.get $rowBias) (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))
                (i32.eq (local.get $mode) (i32.const 1))))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; Depthwise convolution, float32: every output channel co = c * $mult + m reads the
  ;; one input channel c. Each output starts from its bias (or zero) and adds
  ;; w[co, ky, kx] * x for ky, then kx, in order, rounding the product and the sum
  ;; to float32 at each step: the order of $matmul over a patch of one channel,
  ;; padding read as zeros. Each input plane (H x W at $in) is first laid into
  ;; $scratch as a zero-padded plane of $ph x $pw values, $padT rows and $padL
  ;; columns of zeros before it; the caller sizes it so every tap of every lane
  ;; falls inside. Output planes ($oh x $ow, one after the other at $out) are
  ;; written in order four columns at a time: the lanes past a row's end land on
  ;; the next row (or plane), which is written after them; the caller leaves room
  ;; for the last one.
  (func (export "depthwise") (param $in i32) (param $channels i32) (param $h i32) (param $w i32)
    (param $out i32) (param $mult i32) (param $oh i32) (param $ow i32)
    (param $weights i32) (param $bias i32) (param $hasBias i32) (param $kh i32) (param $kw i32)
    (param $sy i32) (param $sx i32) (param $dy i32) (param $dx i32) (param $padT i32) (param $padL i32)
    (param $scratch i32) (param $ph i32) (param $pw i32)
    (local $c i32) (local $m i32) (local $y i32) (local $rows i32) (local $cols i32)
    (local $oy i32) (local $ox i32) (local $ky i32) (local $kx i32)
    (local $wp i32) (local $tap i32) (local $row i32) (local $p i32) (local $o i32)
    (local $acc v128) (local $start v128) (local $x v128)
    (local.set $rows (select (local.get $h) (i32.sub (local.get $ph) (local.get $padT))
      (i32.lt_s (local.get $h) (i32.sub (local.get $ph) (local.get $padT)))))
    (local.set $cols (select (local.get $w) (i32.sub (local.get $pw) (local.get $padL))
      (i32.lt_s (local.get $w) (i32.sub (local.get $pw) (local.get $padL)))))
    (local.set $o (local.get $out))
    (loop $channel
      ;; The padded plane of channel c.
      (memory.fill (local.get $scratch) (i32.const 0) (i32.shl (i32.mul (local.get $ph) (local.get $pw)) (i32.const 2)))
      (local.set $y (i32.const 0))
      (block $copied
        (loop $copy
          (br_if $copied (i32.ge_s (local.get $y) (local.get $rows)))
          (memory.copy
            (i32.add (local.get $scratch) (i32.shl (i32.add (i32.mul (i32.add (local.get $y) (local.get $padT)) (local.get $pw)) (local.get $padL)) (i32.const 2)))
            (i32.add (local.get $in) (i32.shl (i32.mul (i32.add (i32.mul (local.get $c) (local.get $h)) (local.get $y)) (local.get $w)) (i32.const 2)))
            (i32.shl (local.get $cols) (i32.const 2)))
          (local.set $y (i32.add (local.get $y) (i32.const 1)))
          (br $copy)))
      (local.set $m (i32.const 0))
      (loop $multiple
        (local.set $start (select (result v128) (v128.load32_splat (local.get $bias)) (f32x4.splat (f32.const 0)) (local.get $hasBias)))
        (local.set $oy (i32.const 0))
        (loop $outRow
          (local.set $row (i32.add (local.get $scratch) (i32.shl (i32.mul (i32.mul (local.get $oy) (local.get $sy)) (local.get $pw)) (i32.const 2))))
          (local.set $ox (i32.const 0))
          (loop $outColumns
            (local.set $acc (local.get $start))
            (local.set $tap (local.get $weights))
            (local.set $ky (i32.const 0))
            (loop $kernelRow
              (local.set $p (i32.add (local.get $row)
                (i32.shl (i32.add (i32.mul (i32.mul (local.get $ky) (local.get $dy)) (local.get $pw)) (i32.mul (local.get $ox) (local.get $sx))) (i32.const 2))))
              (local.set $kx (i32.const 0))
              (loop $kernelColumn
                (local.set $x
                  (if (result v128) (i32.eq (local.get $sx) (i32.const 1))
                    (then (v128.load (local.get $p)))
                    (else (if (result v128) (i32.eq (local.get $sx) (i32.const 2))
                      (then (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (local.get $p)) (v128.load offset=16 (local.get $p))))
                      (else
                        (f32x4.replace_lane 3
                          (f32x4.replace_lane 2
                            (f32x4.replace_lane 1
                              (v128.load32_zero (local.get $p))
                              (f32.load (i32.add (local.get $p) (i32.shl (local.get $sx) (i32.const 2)))))
                            (f32.load (i32.add (local.get $p) (i32.shl (local.get $sx) (i32.const 3)))))
                          (f32.load (i32.add (local.get $p) (i32.mul (local.get $sx) (i32.const 12))))))))))
                (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load32_splat (local.get $tap)) (local.get $x))))
                (local.set $tap (i32.add (local.get $tap) (i32.const 4)))
                (local.set $p (i32.add (local.get $p) (i32.shl (local.get $dx) (i32.const 2))))
                (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                (br_if $kernelColumn (i32.lt_s (local.get $kx) (local.get $kw))))
              (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
              (br_if $kernelRow (i32.lt_s (local.get $ky) (local.get $kh))))
            (v128.store (local.get $o) (local.get $acc))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (local.set $ox (i32.add (local.get $ox) (i32.const 4)))
            (br_if $outColumns (i32.lt_s (local.get $ox) (local.get $ow))))
          ;; Back to the end of the row: the lanes past it were for the next one.
          (local.set $o (i32.sub (local.get $o) (i32.shl (i32.sub (local.get $ox) (local.get $ow)) (i32.const 2))))
          (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
          (br_if $outRow (i32.lt_s (local.get $oy) (local.get $oh))))
        (local.set $weights (i32.add (local.get $weights) (i32.shl (i32.mul (local.get $kh) (local.get $kw)) (i32.const 2))))
        (local.set $bias (i32.add (local.get $bias) (i32.const 4)))
        (local.set $m (i32.add (local.get $m) (i32.const 1)))
        (br_if $multiple (i32.lt_s (local.get $m) (local.get $mult))))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br_if $channel (i32.lt_s (local.get $c) (local.get $channels)))))
)
