// Scaling probe: what 1..16 threads get from this machine, without w2v.
// gcc -O2 -march=native -pthread bench/scaling_probe.c -o probe -lm && ./probe
// compute: FMA chains in registers (no memory); private: random 100-float rows of a
// per-thread 40 MB table, dot + axpy (cache/memory, no sharing); shared: the same on one
// table all threads write (a mildly skewed row choice; no row is hot).
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
#include <math.h>
#define DIM 100
#define ROWS 100000
static float *shared_tab;
static volatile int go;
typedef struct { int id, mode; double ops; float *tab; } arg_t;
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static void *work(void *p){
  arg_t *a=p; uint64_t r=0x9E3779B97F4A7C15ULL*(a->id+1); double t0=now(); long n=0;
  float acc[8]={1,1,1,1,1,1,1,1};
  float *tab = a->mode==2? shared_tab : a->tab;
  while(now()-t0<1.0){
    for(int it=0;it<2000;it++){
      if(a->mode==0){ for(int k=0;k<100;k++) for(int j=0;j<8;j++) acc[j]=acc[j]*0.999f+0.001f; n+=100; }
      else {
        r^=r<<13;r^=r>>7;r^=r<<17;
        uint32_t u=(uint32_t)(r>>40); // Zipf-ish: square the uniform to favour low rows
        uint64_t row = ((uint64_t)u*u >> 24) % ROWS;
        r^=r<<13;r^=r>>7;r^=r<<17;
        uint64_t row2 = (r>>20) % ROWS;
        float *x=tab+row*DIM,*y=tab+row2*DIM; float d=0;
        for(int i=0;i<DIM;i++) d+=x[i]*y[i];
        float g=0.001f/(1+fabsf(d));
        for(int i=0;i<DIM;i++){ float xi=x[i]; x[i]+=g*y[i]; y[i]+=g*xi; }
        n++;
      }
    }
  }
  a->ops=n/(now()-t0); if(acc[0]==42) printf("x");
  return 0;
}
int main(void){
  shared_tab=malloc(sizeof(float)*DIM*ROWS); for(long i=0;i<(long)DIM*ROWS;i++) shared_tab[i]=0.01f*(i%7);
  const char *names[]={"compute","private-rows","shared-rows"};
  int counts[]={1,2,4,8,12,16};
  for(int mode=0;mode<3;mode++){
    double base=0; printf("%-13s",names[mode]);
    for(int c=0;c<6;c++){
      int T=counts[c]; pthread_t th[16]; arg_t a[16];
      for(int i=0;i<T;i++){a[i].id=i;a[i].mode=mode;a[i].tab=NULL;
        if(mode==1){a[i].tab=malloc(sizeof(float)*DIM*ROWS);for(long j=0;j<(long)DIM*ROWS;j++)a[i].tab[j]=0.01f*(j%7);}
        pthread_create(&th[i],0,work,&a[i]);}
      double tot=0; for(int i=0;i<T;i++){pthread_join(th[i],0);tot+=a[i].ops; if(a[i].tab)free(a[i].tab);}
      if(T==1) base=tot;
      printf("  %2dT %5.2fx", T, tot/base); fflush(stdout);
    }
    printf("\n");
  }
  return 0;
}
