//! Criterion benches of the CPU census's stages on a generated 1e6-edge circuit (10k nodes):
//! reading both id columns (contiguous, deflate and shuffle + deflate storage, each past HDF5's
//! lock and through HDF5 alone), narrowing ids to u32, counting (sorted and shuffled input), and
//! writing the census tables. Whole-process comparisons against neurodamus, h5py + numpy and the
//! h5py floor live in `benches/compare.py` (`./dev.sh bench`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sonata_census::EdgeFile;
use sonata_census::census::output::CensusWriter;
use sonata_census::census::{CensusOptions, DEFAULT_CHUNK_LEN, census_population};
use sonata_census::generate::{AttributeSet, EdgeOrder, GenerateOptions, IdStorage, generate};
use sonata_census::ids::narrow_to_u32;
use sonata_census::progress::Progress;
use sonata_census::sonata::IdColumn;

const EDGES: u64 = 1_000_000;
const POPULATION: &str = "All__All__chemical";

fn circuit(dir: &std::path::Path, order: EdgeOrder) -> std::path::PathBuf {
    circuit_stored(dir, order, IdStorage::Contiguous)
}

fn circuit_stored(dir: &std::path::Path, order: EdgeOrder, ids: IdStorage) -> std::path::PathBuf {
    let path = dir.join(format!("{order:?}_{ids:?}.h5"));
    let options = GenerateOptions {
        nodes: 10_000,
        edges: EDGES,
        order,
        attributes: AttributeSet::None,
        id_storage: ids,
        ..GenerateOptions::default()
    };
    generate(&path, &options, &|_| {}).expect("generate the bench circuit");
    path
}

fn stages(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let sorted = circuit(dir.path(), EdgeOrder::Sorted);
    let shuffled = circuit(dir.path(), EdgeOrder::Shuffled);
    let file = EdgeFile::open(&sorted).expect("open");
    let pop = file.population(POPULATION).expect("population");

    let mut group = c.benchmark_group("census_stages");
    group.sample_size(20);
    group.throughput(Throughput::Elements(EDGES));

    group.bench_function("read_id_columns", |b| {
        b.iter(|| {
            let mut chunks = pop.id_chunks(DEFAULT_CHUNK_LEN);
            let mut n = 0usize;
            while let Some(chunk) = chunks.next_chunk().expect("read") {
                n += chunk.sources.len();
            }
            n
        })
    });

    // Both columns in the census's chunks, past HDF5's lock (`sonata::direct`) and through HDF5
    // alone, for each storage of the id columns. The columns are opened afresh for every read:
    // HDF5's chunk cache would otherwise serve decompressed chunks of the previous iteration,
    // which a census (reading each row once) never gets.
    let rows = sonata_census::generate::DEFAULT_ID_CHUNK_ROWS;
    for (name, ids) in [
        ("contiguous", IdStorage::Contiguous),
        ("deflate", IdStorage::Deflate { rows }),
        ("shuffle_deflate", IdStorage::ShuffleDeflate { rows }),
    ] {
        let path = match ids {
            IdStorage::Contiguous => sorted.clone(),
            _ => circuit_stored(dir.path(), EdgeOrder::Sorted, ids),
        };
        let open = |direct: bool| {
            let file = EdgeFile::open(&path).expect("open");
            let pop = file.population(POPULATION).expect("population");
            let columns = [pop.source_ids().clone(), pop.target_ids().clone()];
            assert!(columns.iter().all(IdColumn::reads_directly), "{name}");
            if direct {
                columns
            } else {
                columns.map(|c| c.without_direct_reads())
            }
        };
        for (how, direct) in [("direct", true), ("hdf5", false)] {
            let id = BenchmarkId::new(format!("read_id_columns_{how}"), name);
            group.bench_function(id, |b| {
                b.iter_batched(|| open(direct), |c| read_all(&c), BatchSize::PerIteration)
            });
        }
    }

    let ids: Vec<u64> = (0..EDGES).map(|i| i * 2654435761 % 100_000).collect();
    let mut narrowed = Vec::new();
    group.bench_function("narrow_to_u32", |b| {
        b.iter(|| narrow_to_u32(&ids, &mut narrowed).expect("fits"))
    });

    for (name, path) in [("sorted", &sorted), ("shuffled", &shuffled)] {
        let file = EdgeFile::open(path).expect("open");
        let pop = file.population(POPULATION).expect("population");
        group.bench_with_input(BenchmarkId::new("count", name), &pop, |b, pop| {
            b.iter(|| census_population(pop, &CensusOptions::default(), &Progress::hidden()))
        });
    }

    let census =
        census_population(&pop, &CensusOptions::default(), &Progress::hidden()).expect("census");
    let out = dir.path().join("census.h5");
    group.bench_function("write_tables", |b| {
        b.iter(|| {
            let mut writer = CensusWriter::create(&out, true).expect("create");
            writer.write(&census).expect("write");
            writer.finish().expect("finish")
        })
    });
    group.finish();
}

/// Reads every row of `columns` in the census's chunks; the sum of the ids read.
fn read_all(columns: &[IdColumn]) -> u64 {
    let mut buffer = vec![0u64; DEFAULT_CHUNK_LEN];
    let mut sum = 0u64;
    for column in columns {
        let mut start = 0;
        while start < column.len() {
            let n = ((column.len() - start) as usize).min(DEFAULT_CHUNK_LEN);
            column
                .read_range_into(start, &mut buffer[..n])
                .expect("read");
            sum = buffer[..n].iter().fold(sum, |s, &v| s.wrapping_add(v));
            start += n as u64;
        }
    }
    sum
}

criterion_group!(benches, stages);
criterion_main!(benches);
